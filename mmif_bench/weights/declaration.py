"""The declaration of one published weight file, written beside the method that loads it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class WeightFile:
    """One published weight file, as timm's ``default_cfgs`` declare a model's weights.

    Parameters
    ----------
    name : str
        Store name: the path under a weights folder (``$MMIF_BENCH_WEIGHTS``, the fetched
        store), e.g. ``IFCNN-MAX.pth`` or ``U2Fusion/model.ckpt.index``.
    url : str
        A direct download URL; or, for a file of a public GitHub repository, leave it
        empty and give ``repository`` (``owner/name``), ``commit`` and ``path`` (its raw
        URL is then downloaded).
    member : str
        The file inside a zip archive that ``url`` or ``path`` names ("" for a plain
        file); a member never seen is named by its file name, matched anywhere in the
        archive.
    size : int or None
        Bytes of the file, where known.
    sha256 : str
        sha256 of the file (of the member, for an archive member), where known.
    git_blob : str
        The id git gives the published file (for a member: its archive's), where known;
        verifies a download when no sha256 is known. At least one of the two is required.
    licence : str
        What the authors' repository says of the file's licence, in a few words.
    optional : bool
        The method runs without this file (e.g. a model for one pair type only); a
        default run does not ask for it, ``fetch weights`` fetches it.
    companions : tuple of WeightFile
        Files loaded from beside this one (a TF1 checkpoint's ``.data`` and ``.meta``
        beside the ``.index`` its option names), fetched with it.
    """

    name: str
    url: str = ""
    repository: str = ""
    commit: str = ""
    path: str = ""
    member: str = ""
    size: int | None = None
    sha256: str = ""
    git_blob: str = ""
    licence: str = ""
    optional: bool = False
    companions: tuple[WeightFile, ...] = ()

    def __post_init__(self) -> None:
        store = PurePosixPath(self.name)
        if not self.name or store.is_absolute() or ".." in store.parts:
            raise ValueError(f"WeightFile name {self.name!r} must be a relative path under a "
                             f"weights folder, e.g. 'Method/model.pth'")
        if bool(self.url) == bool(self.repository and self.commit and self.path):
            raise ValueError(f"WeightFile {self.name}: give either url or repository, commit "
                             f"and path")
        if not (self.sha256 or self.git_blob):
            raise ValueError(f"WeightFile {self.name}: give its sha256 or git_blob, so that a "
                             f"download can be verified")

    def with_companions(self) -> tuple[WeightFile, ...]:
        """This file and the files loaded from beside it."""
        return (self, *self.companions)

    @property
    def download_url(self) -> str:
        """Where the published file (the archive, for a member) is downloaded from."""
        return self.url or f"https://github.com/{self.repository}/raw/{self.commit}/{self.path}"

    @property
    def published_name(self) -> str:
        """The published file's path (``path``, else the URL's last part)."""
        return self.path or self.url.rsplit("/", 1)[-1]

    @property
    def source(self) -> str:
        """Where its authors publish it, in one phrase."""
        where = (f"{self.repository} @ {self.commit[:7]}: {self.path}" if self.repository
                 else self.url)
        return f"{where} ({self.member})" if self.member else where
