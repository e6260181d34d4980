"""The runtime requirements stay free of heavy numeric libraries (a design rule)."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = ("numpy", "scipy", "scikit-learn", "sklearn", "torch")


def test_runtime_requirements_pull_no_numeric_stack():
    lines = (REPO / "requirements.txt").read_text().lower().splitlines()
    names = [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
    assert names, "requirements.txt lists the runtime dependencies"
    for name in names:
        assert not name.startswith(FORBIDDEN), name
