"""The interactive shell: prompt-toolkit for input, the Session for everything else.

``Repl.handle(text)`` runs one input (SQL or meta-command) and writes the result; ``run()`` adds
the terminal: multi-line input ending at ``;``, history, completion, highlighting, Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from chaosql.errors import ChaosqlError, QueryCancelled
from chaosql.output import render
from chaosql.repl import commands
from chaosql.repl.completion import Catalog, matches

if TYPE_CHECKING:
    from chaosql.engine.session import Result, Session

HISTORY = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "chaosql" / "history"
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

#: Columns whose distinct values are offered after ``col = '`` (refreshed in the background).
VALUE_QUERIES = {
    "namespace": "SELECT DISTINCT namespace FROM experiments WHERE namespace IS NOT NULL ORDER BY 1",
    "kind": "SELECT DISTINCT kind FROM experiments ORDER BY 1",
    "phase": "SELECT * FROM (VALUES ('deleting'), ('paused'), ('finished'), ('running'), ('injecting'))",
    "cluster": "SELECT DISTINCT cluster FROM experiments ORDER BY 1",
    "name": "SELECT DISTINCT name FROM experiments ORDER BY 1 LIMIT 5000",
    "experiment": "SELECT DISTINCT name FROM experiments ORDER BY 1 LIMIT 5000",
}


class Repl:
    def __init__(self, session: Session, *, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.session = session
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._terminal_out = self.out
        self.format = "table"
        self.expanded = False
        self.timing = False
        self.done = False
        self.verbose = False  # -v: a failed write lists every object it rolled back or left
        self.terminated = False  # SIGTERM came: finish (a write rolls back), then quit
        self.catalog = Catalog(
            {name: t.column_names for name, t in session.tables.items()},
            meta_commands=sorted({c.name for c in commands.REGISTRY.values()}),
            docs={name: {c.name: f"{c.type}: {c.doc}" for c in t.columns} for name, t in session.tables.items()},
        )
        self.spinner = bool(getattr(self.err, "isatty", lambda: False)())
        self.query_dirs: list = []  # the user's saved-query directories, for \run
        self._asking = False  # a write is asking for confirmation: no spinner over the question
        if session.confirm is None:
            session.confirm = self.confirm

    # --- running input ----------------------------------------------------------------------

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def handle(self, text: str) -> None:
        """Run one input: a meta-command or SQL (possibly several statements)."""
        text = text.strip()
        if not text:
            return
        try:
            if text.startswith("\\") or text.split()[0].lower() in ("quit", "exit", "help"):
                cmd, arg = commands.lookup(text)
                cmd.handler(self, arg)
                return
            for statement in self.session.split(text):
                self.run_sql(statement)
        except ChaosqlError as err:
            self.err.write(f"ERROR: {err}\n")
            self.err.flush()

    def run_sql(self, sql: str) -> Result:
        result = self._execute_interruptibly(sql)
        for warning in result.warnings:
            self.err.write(f"WARNING: {warning}\n")
        if result.has_rows:
            render(result.columns, result.types, result.rows(), self.format, self.out, expanded=self.expanded)
        else:
            self.write(f"{result.status}\n")
        if self.timing:
            self.write(f"Time: {result.elapsed * 1000:.1f} ms\n")
        self.out.flush()
        return result

    def confirm(self, question: str) -> bool:
        """Asked (from the statement's thread) before a write touching more than
        chaosql.confirm_rows rows: y/N on a terminal; without one the answer is no."""
        if not getattr(sys.stdin, "isatty", lambda: False)():
            return False
        self._asking = True
        try:
            self.err.write("\r" + " " * 20 + f"\r{question} [y/N] ")
            self.err.flush()
            answer = sys.stdin.readline()
        finally:
            self._asking = False
        return answer.strip().lower() in ("y", "yes")

    def _execute_interruptibly(self, sql: str) -> Result:
        """Run in a worker thread so Ctrl-C (or SIGTERM) cancels the statement and keeps the shell.
        A cancelled write rolls back what it made: the shell waits for that and shows what is left."""
        from chaosql.engine.classify import classify

        box: dict[str, Any] = {}
        writing = classify(sql, self.session.tables).is_write
        # not Thread.is_alive: a join interrupted by Ctrl-C can mark a running thread as stopped
        finished = threading.Event()

        def work() -> None:
            try:
                box["result"] = self.session.execute(sql)
            except BaseException as err:  # handed to the main thread
                box["error"] = err
            finally:
                finished.set()

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        started, frame = time.monotonic(), 0
        label = "writing…" if writing else "fetching…"
        cancelled = False
        unsent = ""  # a cancel that came before the worker's statement began: sent once it has
        while not finished.is_set():
            try:
                if unsent and self.session.cancel(unsent):
                    unsent = ""
                finished.wait(0.1)
                if self.spinner and not self._asking and time.monotonic() - started > 0.3:
                    self.err.write(f"\r{SPINNER[frame % len(SPINNER)]} {label}")
                    self.err.flush()
                    frame += 1
            except KeyboardInterrupt:
                if cancelled and not writing:
                    break  # a second Ctrl-C during a read: back to the prompt now
                if not cancelled:
                    cancelled = True
                    reason = "interrupted (SIGTERM)" if self.terminated else "query cancelled (Ctrl-C)"
                    if not self.session.cancel(reason):
                        unsent = reason
                    label = "cancelling: rolling back what the write made…" if writing else "cancelling…"
                if writing:
                    self.err.write("\r" + " " * 40 + "\rrolling back what the write made; wait for it to finish\n")
                    self.err.flush()
        if self.spinner and frame:
            self.err.write("\r" + " " * 60 + "\r")
        if "error" in box:
            err = box["error"]
            if self.verbose:
                for line in getattr(err, "details", None) or []:
                    self.err.write(f"  {line}\n")
            raise err
        if cancelled and "result" not in box:
            raise QueryCancelled("query cancelled")
        return box["result"]

    def set_output(self, path: str | None) -> None:
        if self.out is not self._terminal_out:
            self.out.close()
        self.out = open(path, "a", encoding="utf-8") if path else self._terminal_out  # noqa: SIM115 (kept open until \o)

    # --- live completion values -------------------------------------------------------------

    def refresh_values(self, background: bool = True) -> None:
        """Fill value completions on a separate Session so typing never waits for sources."""

        def work() -> None:
            from chaosql.engine.session import Session

            try:
                side = Session(self.session.sources, settings={"on_source_error": "warn"})
                values = {col: [str(r[0]) for r in side.execute(q).rows()] for col, q in VALUE_QUERIES.items()}
                side.close()
                self.catalog.swap_values(values)
            except Exception:
                pass  # completion values are a convenience; errors show up when querying

        if background:
            threading.Thread(target=work, daemon=True, name="chaosql-completion").start()
        else:
            work()

    # --- the terminal -----------------------------------------------------------------------

    def run(self) -> int:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.completion import Completer, Completion, ThreadedCompleter
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.key_binding import KeyBindings

        repl = self

        class _Completer(Completer):
            def get_completions(self, document, complete_event):
                word = document.get_word_before_cursor(WORD=False)
                for text, meta in matches(repl.catalog, document.text, document.cursor_position):
                    yield Completion(
                        text,
                        start_position=-len(word)
                        if not text.startswith("\\")
                        else -len(document.text_before_cursor.split(" ")[-1]),
                        display_meta=repl.catalog.display(text, meta),
                    )

        bindings = KeyBindings()

        @bindings.add("enter")
        def _(event):
            buffer = event.current_buffer
            text = buffer.text.strip()
            if not text or text.endswith(";") or text.startswith("\\") or text.lower() in ("quit", "exit", "help"):
                buffer.validate_and_handle()
            else:
                buffer.insert_text("\n")

        HISTORY.parent.mkdir(parents=True, exist_ok=True)
        lexer = None
        try:
            from prompt_toolkit.lexers import PygmentsLexer
            from pygments.lexers.sql import PostgresLexer

            lexer = PygmentsLexer(PostgresLexer)
        except ImportError:
            pass
        prompt: PromptSession[str] = PromptSession(
            history=FileHistory(str(HISTORY)),
            completer=ThreadedCompleter(_Completer()),
            complete_while_typing=True,
            lexer=lexer,
            multiline=True,
            key_bindings=bindings,
            prompt_continuation=lambda width, line, soft: "... ".rjust(width),
        )
        self.refresh_values()
        self.write('chaosql — SQL over chaos. Type \\? for help, \\q to quit, end statements with ";".\n')

        def terminate(signum: int, frame: Any) -> None:  # SIGTERM: as Ctrl-C, then quit
            self.terminated = True
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, terminate)
        try:
            while not self.done and not self.terminated:
                try:
                    text = prompt.prompt("chaosql> ")
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    break
                try:
                    self.handle(text)
                except KeyboardInterrupt:  # between statements: nothing is half-done
                    self.err.write("ERROR: query cancelled\n")
        finally:
            signal.signal(signal.SIGTERM, previous)
        return 128 + signal.SIGTERM if self.terminated else 0
