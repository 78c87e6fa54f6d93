"""Policy adapters in torch: multi-task PPO and SAC, each beside its settings."""
