"""A retrieval-augmented answer server that fits in 100 MB.

``create_app(settings)`` builds the Starlette app (``app`` below is what
``uvicorn server:app`` and Vercel load); ``python server.py`` serves it, and
``python server.py ingest|search`` are the command line.
"""
from __future__ import annotations

import sys

from rag.settings import Settings


def create_app(settings: Settings | None = None, **services):
    """The ASGI app; nothing is opened until it starts (or its first request)."""
    from rag.app import build_app

    return build_app(settings or Settings.from_env(), **services)


def _parser():
    import argparse  # the command line only: `uvicorn server:app` never needs it

    def formatter(prog: str) -> argparse.HelpFormatter:  # sized here: argparse's own sizing imports shutil,
        return argparse.HelpFormatter(prog, width=_terminal_width())  # bz2 and lzma (0.5 MB a search run)

    parser = argparse.ArgumentParser(prog="server.py", description=__doc__.splitlines()[0], formatter_class=formatter)
    commands = parser.add_subparsers(dest="command", parser_class=lambda **kw: argparse.ArgumentParser(
        formatter_class=formatter, **kw))
    serve = commands.add_parser("serve", help="serve the HTTP API (the default)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--data-dir")
    ingest = commands.add_parser("ingest", help="add files, folders or .jsonl(.gz) corpora to DATA_DIR")
    ingest.add_argument("--data-dir")
    ingest.add_argument("--pattern", default="*", help="glob for files inside folders (default: *)")
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    search = commands.add_parser("search", help="rank documents for a JSON Lines file of queries (TREC run)")
    search.add_argument("--data-dir")
    search.add_argument("--queries", required=True, help='JSON Lines of {"_id", "text"}')
    search.add_argument("--top-k", type=int, default=100)
    search.add_argument("--run", required=True, help="where to write the TREC run")
    search.add_argument("--stats", help="where to write timing and memory figures (JSON)")
    search.add_argument("--tag", default="tfidf")
    return parser


def _terminal_width() -> int:
    """What shutil.get_terminal_size() gives for help text: $COLUMNS, the terminal, else 80; minus 2."""
    import os

    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 80
    return max(columns, 1) - 2


def _settings(args) -> Settings:
    overrides = {"DATA_DIR": args.data_dir} if getattr(args, "data_dir", None) else {}
    if getattr(args, "host", None):
        overrides["HOST"] = args.host
    if getattr(args, "port", None):
        overrides["PORT"] = args.port
    return Settings.from_env().replace(**overrides)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:  # plain `python server.py`: serve straight away
        return serve(Settings.from_env())
    args = _parser().parse_args(argv)
    settings = _settings(args)
    if args.command == "ingest":
        from rag.paths import any_corpus
        from rag.workers import start_worker

        # Forked first, while this process is small (it shares less of it), and only for corpora: files
        # are indexed as they are parsed, one at a time.
        wanted = settings.INGEST_WORKER and any_corpus(args.paths, args.pattern)
        worker = start_worker(settings.LANGUAGE) if wanted else None
        from rag.cli import run_ingest

        return run_ingest(settings, args.paths, args.pattern, worker)
    if args.command == "search":
        from rag.cli import run_search

        return run_search(settings, args.queries, args.top_k, args.run, args.stats, args.tag)
    return serve(settings)


def serve(settings: Settings) -> int:
    """Serve the app with uvicorn, one worker (ingestion is serialised inside the process)."""
    import uvicorn

    uvicorn.run(create_app(settings), host=settings.HOST, port=settings.PORT, workers=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
else:  # imported: `uvicorn server:app`, Vercel
    app = create_app()
