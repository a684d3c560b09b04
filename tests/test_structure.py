"""The architecture holds: Streamlit only in analytics/ui.py, no SQL or DuckDB in pages, every SQL file used,
the measured server settings kept, and every setting and environment variable documented in README.md."""
from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ANALYTICS = ROOT / "analytics"
SQL_DIR = ANALYTICS / "sql"
CONFIG = ROOT / ".streamlit" / "config.toml"
README = ROOT / "README.md"
PAGE_SCRIPTS = [ROOT / "dashboard.py"] + sorted((ROOT / "pages").glob("*.py"))
SQL_IN_TEXT = re.compile(r"\b(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(OR\s+REPLACE\s+)?"
                         r"(TABLE|VIEW|MACRO)|DROP\s+(TABLE|VIEW)|GROUP\s+BY|ORDER\s+BY|JOIN|PRAGMA)\s")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module the file imports, wherever the import statement is."""
    names = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value).split(".")[0])
    return names


def string_constants(path: Path) -> list[str]:
    """Every string literal in the file, f-string pieces included."""
    return [node.value for node in ast.walk(tree(path))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def analytics_modules() -> list[Path]:
    return sorted(ANALYTICS.rglob("*.py"))


# ------------------------------------------------------------------------------------------ the split

@pytest.mark.parametrize("module", [p for p in analytics_modules() if p.name != "ui.py" or p.parent != ANALYTICS],
                         ids=rel)
def test_only_ui_imports_streamlit(module):
    assert "streamlit" not in imported_modules(module), (
        f"{rel(module)} imports streamlit: only analytics/ui.py may (computation must run without a browser)")


@pytest.mark.parametrize("script", PAGE_SCRIPTS, ids=rel)
def test_pages_hold_no_sql_or_database_access(script):
    assert "duckdb" not in imported_modules(script), f"{rel(script)} imports duckdb: ask analytics/ instead"
    sql = [text.strip()[:80] for text in string_constants(script) if SQL_IN_TEXT.search(text)]
    assert not sql, f"{rel(script)} has SQL in string literals (move it to analytics/sql/): {sql}"


def _staging_views() -> set[str]:
    for node in ast.walk(tree(ANALYTICS / "build.py")):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(getattr(t, "id", None) == "STAGING_VIEWS" for t in targets):
                return set(ast.literal_eval(node.value))
    pytest.fail("analytics/build.py no longer defines STAGING_VIEWS")


def test_every_sql_file_is_used():
    constants = {text for module in analytics_modules() for text in string_constants(module)}
    staging = _staging_views()
    sql_texts = {p.stem: p.read_text(encoding="utf-8") for p in SQL_DIR.glob("*.sql")}
    unused = []
    for name, text in sorted(sql_texts.items()):
        if name.startswith("stg_"):
            used = name in staging  # built as a view by analytics/build.py
        elif name.startswith("macro_"):  # loaded by build.py's glob; used where its macro is called
            defined = re.search(r"CREATE\s+(?:OR\s+REPLACE\s+)?MACRO\s+(\w+)", text, re.I)
            called = defined and any(re.search(rf"\b{defined[1]}\s*\(", other)
                                     for other_name, other in sql_texts.items() if other_name != name)
            used = bool(called) and "macro_*.sql" in string_constants(ANALYTICS / "build.py")
        else:
            used = name in constants  # a query name: store.query("<name>", …)
        if not used:
            unused.append(f"{name}.sql")
    assert not unused, (f"SQL files in analytics/sql/ that no code runs: {unused} (query names must appear as a "
                        "string in analytics/*.py; stg_* views in build.STAGING_VIEWS; macro_* called by a query)")


# ------------------------------------------------------------------------------------------ settings

def _config() -> dict:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


def _settings(config: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in config.items():
        keys += _settings(value, f"{prefix}{key}.") if isinstance(value, dict) else [f"{prefix}{key}"]
    return keys


@pytest.mark.parametrize("section,key,value", [
    ("server", "enableXsrfProtection", True),   # uploads and forms stay protected
    ("server", "fileWatcherType", "none"),      # measured: ~70 ms per run per session (../shared/PERFORMANCE.md)
    ("runner", "postScriptGC", False),          # measured: full GC after every run dominated a crowd's CPU
])
def test_measured_settings_are_kept(section, key, value):
    actual = _config().get(section, {}).get(key)
    assert actual == value, f".streamlit/config.toml: [{section}] {key} must stay {value!r} (it is {actual!r})"


def _readme() -> str:
    if not README.is_file():
        pytest.fail("README.md is missing: it must document every setting in .streamlit/config.toml and every "
                    "REACH_* environment variable", pytrace=False)
    return README.read_text(encoding="utf-8")


def test_every_setting_is_documented():
    readme = _readme()
    missing = [key for key in _settings(_config()) if key not in readme]
    assert not missing, f"settings in .streamlit/config.toml not mentioned in README.md (as section.key): {missing}"


def test_every_environment_variable_is_documented():
    readme = _readme()
    variables = sorted({text for text in string_constants(ANALYTICS / "config.py")
                        if re.fullmatch(r"REACH_\w+", text)})
    assert variables, "analytics/config.py reads no REACH_* environment variable: has it moved?"
    missing = [v for v in variables if not re.search(rf"\b{v}\b", readme)]
    assert not missing, f"environment variables read in analytics/config.py not mentioned in README.md: {missing}"


def test_the_projects_own_contract_documents_every_file_and_column_it_reads():
    """docs/SCHEMA.md is enough without ../shared: every file and column the validator reads is named in it."""
    from analytics.schema import ALL_FILES
    text = (Path(__file__).resolve().parents[1] / "docs" / "SCHEMA.md").read_text(encoding="utf-8")
    missing = [f"{spec.name}:{column.name}" for spec in ALL_FILES for column in spec.columns
               if f"`{spec.name}`" not in text or f"`{column.name}`" not in text]
    assert not missing, missing
    assert all(f"`{key}`" in text for key in ("flag_ratio_low", "flag_ratio_high", "suppress_below"))
