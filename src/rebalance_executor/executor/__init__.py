"""The async executor: plan + deadline + broker port -> ExecutionResult (SPEC §4)."""
