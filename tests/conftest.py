"""What every test shares: no test writes outside its temporary directories."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _checkpoint_key_in_a_temporary_directory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Checkpoints are signed with a key kept in the state directory; tests use their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINTACTORS_STATE_DIR", str(tmp_path_factory.mktemp("state")))
        yield
