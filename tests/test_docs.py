"""Documentation keeps up with the code: every command and every cdp.toml section is documented."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _docs_text() -> str:
    parts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    parts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(parts)


def _command_paths() -> list[str]:
    import typer.main

    from cdp.cli import app

    out: list[str] = []

    def walk(cmd, path: list[str]) -> None:  # noqa: ANN001
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
        else:
            out.append(" ".join(path))

    walk(typer.main.get_command(app), ["cdp"])
    return out


def test_every_command_is_documented() -> None:
    text = _docs_text()
    paths = _command_paths()
    assert len(paths) > 40
    missing = [p for p in paths if p not in text]
    assert not missing, f"commands not mentioned in README.md or docs/: {missing}"


def test_every_config_section_is_documented() -> None:
    from cdp.config import Config

    text = _docs_text()
    missing = [f"[{name}]" for name in Config.model_fields if f"[{name}" not in text]
    assert not missing, f"cdp.toml sections not documented: {missing}"


def test_docs_index_links_every_page() -> None:
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    pages = [p.name for p in (ROOT / "docs").glob("*.md") if p.name != "index.md"]
    missing = [p for p in pages if f"({p})" not in index]
    assert not missing, f"docs/index.md does not link: {missing}"
