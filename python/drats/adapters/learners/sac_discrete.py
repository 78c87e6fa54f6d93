"""The discrete-action step of the torch SAC learner (Christodoulou, 2019), for tasks that may
have different numbers of actions: expectations over each row's own actions replace the
sampled actions of the continuous step, and the actions of no row's task are masked out of the
actor (probability 0, no gradient) and out of every expectation (an exact 0), so they are
never sampled and never valued."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from drats.adapters.learners.numpy_forward import MASKED_LOGIT

if TYPE_CHECKING:
    from drats.adapters.learners.sac import TorchSACPolicy


def masked_logits(
    logits: torch.Tensor, mask: torch.Tensor | None, ids: torch.Tensor
) -> torch.Tensor:
    """``logits`` [B, A] with the actions outside row i's task (``mask[ids[i]]`` false) set to
    :data:`~drats.adapters.learners.numpy_forward.MASKED_LOGIT`; unchanged without a mask."""
    if mask is None:
        return logits
    return logits.masked_fill(~mask[ids], MASKED_LOGIT)


def expectation(
    probs: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None, ids: torch.Tensor
) -> torch.Tensor:
    """``sum_a probs * values`` over each row's own actions: a masked action adds an exact 0
    whatever its value (a critic's output for it is never trained)."""
    terms = probs * values
    if mask is not None:
        terms = torch.where(mask[ids], terms, torch.zeros_like(terms))
    return terms.sum(-1)


def discrete_losses(
    pol: TorchSACPolicy, b: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total loss, stacked metrics, mean |TD| per row) of one discrete SAC step of ``pol`` on
    batch ``b``: soft TD targets from the target critics, the critic loss on the taken actions,
    the actor loss and each task's temperature loss against its own target entropy."""
    obs, ids, mask = b["obs"], b["task_ids"], pol.mask_tensor
    log_alpha = pol.log_alpha[ids]
    alpha = log_alpha.detach().exp().unsqueeze(-1)
    with torch.no_grad():
        next_logp = torch.log_softmax(masked_logits(pol.actor(b["next_obs"], ids), mask, ids), -1)
        next_q = pol.target_critic(b["next_obs"], ids)  # [2, B, A]
        soft_q = torch.minimum(next_q[0], next_q[1]) - alpha * next_logp
        soft = expectation(next_logp.exp(), soft_q, mask, ids)
        y = b["rewards"] + pol.config.gamma * (1.0 - b["terminated"]) * soft
    q_all = pol.critic(obs, ids)  # [2, B, A]
    taken = b["actions"].long().view(1, -1, 1).expand(2, -1, 1)
    q = q_all.gather(2, taken).squeeze(-1)
    td = q - y
    critic_loss = (b["weights"] * (td * td).sum(0)).mean()
    logp = torch.log_softmax(masked_logits(pol.actor(obs, ids), mask, ids), -1)
    probs = logp.exp()
    q_min = torch.minimum(q_all[0], q_all[1]).detach()  # same input: no second pass
    actor_loss = expectation(probs, alpha * logp - q_min, mask, ids).mean()
    entropy = -expectation(probs, logp, mask, ids).detach()
    alpha_loss = (log_alpha * (entropy - pol.target_entropies[ids])).mean()
    td_abs = td.detach().abs().mean(0)
    metrics = torch.stack(
        [
            critic_loss.detach(),
            actor_loss.detach(),
            alpha_loss.detach(),
            pol.log_alpha.detach().exp().mean(),
            entropy.mean(),
            q.detach().mean(),
            td_abs.mean(),
        ]
    )
    return critic_loss + actor_loss + alpha_loss, metrics, td_abs


__all__ = ["discrete_losses", "expectation", "masked_logits"]
