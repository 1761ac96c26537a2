"""Import the handler from the `sam build` artifact in a clean interpreter.

Proves the artifact is self-contained: the handler and its dependencies import from the build
directory alone, and neither the simulator nor dev tools were shipped.
"""

import subprocess
import sys
from pathlib import Path

build = Path(sys.argv[1]) / "RebalanceExecutorFunction"
if not (build / "rebalance_executor" / "handler.py").is_file():
    sys.exit(f"no handler in {build}")
if (build / "alpaca_sim").exists():
    sys.exit("the simulator must not ship in the Lambda artifact")
probe = (
    "import sys; sys.path[:0] = [sys.argv[1]]; "
    "import rebalance_executor.handler as h; assert callable(h.lambda_handler); "
    "assert h.__file__.startswith(sys.argv[1]), h.__file__; print('artifact ok:', h.__file__)"
)
env = {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "rebalance-executor",
       "RESULTS_BUCKET": "artifact-check", "IDEMPOTENCY_TABLE": "artifact-check",
       "ALPACA_API_KEY": "artifact-check", "ALPACA_SECRET_KEY": "artifact-check"}
if sys.version_info[:2] != (3, 12):
    # The artifact holds cp312 wheels; only a 3.12 interpreter can import them.
    print(f"artifact built; import check needs Python 3.12, this is {sys.version.split()[0]}")
    sys.exit(0)
# -S: no site-packages, so every import must come from the artifact itself.
completed = subprocess.run([sys.executable, "-I", "-S", "-c", probe, str(build)], env=env, check=False)
sys.exit(completed.returncode)
