"""The check step for any release file: ``check(path, codebook, settings) -> Checked``.

One contract for every kind, so `itip check` and the ingest flow agree by construction:
both call :func:`check`, which picks the kind's checker by the file's name (as
:func:`itip.release.discover` does) and returns a :class:`itip.checked.Checked`:

- published figures (``itip_<YEAR>.csv|xlsx``): :func:`itip.release.check_release`;
- respondent-level files (``itip_<YEAR>_respondents.csv|xlsx|sav``):
  :func:`itip.respondents.check.check_respondents`;
- the editions file: :func:`itip.editions.check_editions`.

Nothing here touches the warehouse; the respondents' keyed-hash key is passed in by the
caller, which knows the warehouse it belongs to.
"""

from __future__ import annotations

from pathlib import Path

from itip.checked import Checked
from itip.codebook import Codebook
from itip.problems import ItipError
from itip.release import KIND, RESPONDENT_NAME, RESPONDENTS_KIND, check_release
from itip.settings import DEFAULTS, Settings


def kind_of(path: Path) -> str:
    """The release kind a file's name says it is."""
    from itip.editions import EDITIONS_KIND, editions_file

    if RESPONDENT_NAME.fullmatch(path.name):
        return RESPONDENTS_KIND
    if editions_file(path):
        return EDITIONS_KIND
    return KIND


def check(
    path: Path,
    codebook: Codebook,
    settings: Settings = DEFAULTS,
    *,
    key: bytes | None = None,
    private: bool = False,
) -> Checked:
    """Every check of one release file of any kind, without touching the warehouse.

    `key` is the warehouse's key for respondent ids (itip.privacy.load_key), needed only for
    respondent files. `private` says `path` is already a private copy (the flow makes one to
    hash exactly the bytes it loads); otherwise a respondent file is copied first."""
    kind = kind_of(path)
    if kind == RESPONDENTS_KIND:
        from itip.respondents.check import check_respondents

        if key is None:
            raise ItipError(f"{path.name}: checking a respondent file needs the warehouse's key")
        match = RESPONDENT_NAME.fullmatch(path.name)
        assert match is not None
        return check_respondents(path, codebook, int(match["year"]), key, private=private, settings=settings)
    if kind == KIND:
        return check_release(path, codebook, settings=settings)
    from itip.editions import check_editions

    return check_editions(path, codebook, settings)
