"""Warm a running dashboard's shared caches before a crowd arrives: open each page and choose every option of
each of its filters once, over Streamlit's own websocket protocol, so that every result and figure a visitor can
ask for by changing one filter is already computed (a first computation costs 0.1–1 s of the one core that runs
scripts; a cached one ~0.05 s).

    python -m bench.warm [--url http://127.0.0.1:8501] [--pages / /Needs_profile ...]

It talks to the server only; run it on the server itself after starting it, before the doors open.
"""
from __future__ import annotations

import argparse
import asyncio
import time

from bench.stclient import StreamlitClient

MAIN_PAGES = ["/", "/Needs_profile", "/Engagement_reach", "/Hard_to_reach"]


def filter_keys(tab: StreamlitClient) -> list[str]:
    """The user keys of the page's URL-held filters (ui.query_choice keys them filter_<name>)."""
    return sorted({wid.rsplit("-", 1)[-1] for wid, e in tab.widgets.items() if e.WhichOneof("type") == "selectbox"
                   and "-filter_" in wid and len(e.selectbox.options) > 1 and not e.selectbox.disabled})


async def warm(url: str, pages: list[str], keys: list[str] | None = None) -> list[tuple[str, int, float]]:
    """(page, runs, seconds) for each page: opened, then every option of each filter (or of `keys`) chosen."""
    done = []
    async with StreamlitClient(url, message_timeout=300, run_timeout=600) as tab:
        for page in pages:
            started, runs = time.perf_counter(), 1
            path, _, query = page.partition("?")
            await tab.open(path, query)
            for key in [k for k in keys or filter_keys(tab) if tab.selectbox(k) is not None]:
                for option in list(tab.selectbox(key).options):
                    await tab.change_selectbox(key, option)
                    runs += 1
                await tab.open(path, query)  # back to the defaults before the next filter
                runs += 1
            done.append((page, runs, time.perf_counter() - started))
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8501")
    parser.add_argument("--pages", nargs="+", default=MAIN_PAGES)
    args = parser.parse_args()
    total = time.perf_counter()
    for page, runs, seconds in asyncio.run(warm(args.url, args.pages)):
        print(f"{page:<22} {runs:>4} runs {seconds:7.1f} s")
    print(f"warm in {time.perf_counter() - total:.1f} s")


if __name__ == "__main__":
    main()
