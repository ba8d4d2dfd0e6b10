"""Reading an authority matrix from a file, or the one shipped with the demo."""

from __future__ import annotations

from pathlib import Path

from agentdesk.domain.authority import AuthorityMatrix, MatrixError, parse_matrix


def load_matrix(path: Path | str) -> AuthorityMatrix:
    """The matrix in ``path``; :class:`MatrixError` (one line, naming the file) when it cannot be used."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise MatrixError(f"{path}: cannot read the authority matrix: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MatrixError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_matrix(text, str(path))


def demo_matrix() -> AuthorityMatrix:
    """The demo company's matrix (agent, lead, supervisor), shipped in the package."""
    # A plain path, not importlib.resources: that would import zipfile on the start-up path.
    source = Path(__file__).with_name("demo") / "authority.toml"
    return parse_matrix(source.read_text("utf-8"), "demo authority.toml")
