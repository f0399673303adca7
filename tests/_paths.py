"""Where the project's files are, for tests at any depth."""

from pathlib import Path

#: The project's root (holds pyproject.toml, configs/, mintactors/).
ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
PACKAGE = ROOT / "mintactors"
BUILTIN_PROFILE = PACKAGE / "costs" / "profiles" / "paper-2014.toml"
