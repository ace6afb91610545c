"""A throwaway Virtuoso server for the store-level tests (Debian's ``virtuoso-opensource``).

``virtuoso-t +foreground`` runs over a database in a temporary directory, on free ports
(one for ISQL, one for HTTP), with a minimal configuration file written here; the system
service the package installs is not used. Once the HTTP server answers, ISQL grants the
anonymous ``SPARQL`` user the right to update (``/sparql``) and gives ``nobody`` read and
write permissions on every graph, which the Graph Store Protocol (``/sparql-graph-crud``)
needs. Tests that use it are skipped when ``virtuoso-t`` is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from .conftest import free_port, stop_process

VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt") or shutil.which("isql-v")
SKIP_REASON = "virtuoso-opensource is not installed"

#: Graphs Virtuoso keeps for itself (its RDF views schema, LDP, the service description).
SYSTEM_GRAPHS = (
    "http://www.openlinksw.com/schemas/virtrdf#",
    "http://www.w3.org/ns/ldp#",
    "http://localuriqaserver/sparql",
)

INI = """\
[Database]
DatabaseFile       = {dir}/virtuoso.db
ErrorLogFile       = {dir}/virtuoso.log
LockFile           = {dir}/virtuoso.lck
TransactionFile    = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile    = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx

[Parameters]
ServerPort         = {sql_port}
DisableUnixSocket  = 1
CaseMode           = 2
DirsAllowed        = .
NumberOfBuffers    = 10000
MaxDirtyBuffers    = 6000
CheckpointInterval = 0
ThreadsPerQuery    = 2

[HTTPServer]
ServerPort    = {http_port}
ServerRoot    = {dir}/vsp
ServerThreads = 8
HTTPThreadSize = 280000
Charset       = UTF-8

[SPARQL]
ResultSetMaxRows      = 1000000
MaxQueryExecutionTime = 120
"""

#: Anonymous SPARQL Update at /sparql, and read-write (7) on all graphs for the Graph
#: Store Protocol endpoint, which runs as "nobody".
GRANTS = "grant SPARQL_UPDATE to \"SPARQL\"; DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);"


class Virtuoso:
    """A ``virtuoso-t`` process over a database in ``location``, on free ports."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.sql_port, self.http_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.sparql = f"{self.url}/sparql"
        self.gsp = f"{self.url}/sparql-graph-crud"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Virtuoso:
        if VIRTUOSO is None or ISQL is None:
            pytest.skip(SKIP_REASON)
        self.location.mkdir(parents=True, exist_ok=True)
        (self.location / "vsp").mkdir(exist_ok=True)
        ini = self.location / "virtuoso.ini"
        ini.write_text(
            INI.format(dir=self.location, sql_port=self.sql_port, http_port=self.http_port),
            encoding="utf-8",
        )
        self.proc = subprocess.Popen(
            [VIRTUOSO, "+foreground", "+configfile", str(ini)],
            cwd=self.location,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120  # a new database takes a few seconds
        while True:
            try:
                resp = requests.get(self.sparql, params={"query": "ASK {}"}, timeout=2)
                if resp.ok:
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited: see {self.location}/virtuoso.log")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Virtuoso did not answer on {self.sparql}")
            time.sleep(0.2)
        self.isql(GRANTS)
        return self

    def isql(self, sql: str) -> str:
        """Run SQL as dba (the password of a new database is ``dba``)."""
        assert ISQL is not None
        done = subprocess.run(
            [ISQL, str(self.sql_port), "dba", "dba", f"exec={sql}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0 or "*** Error" in done.stdout + done.stderr:
            raise RuntimeError(f"isql failed: {done.stdout}{done.stderr}")
        return done.stdout

    def stop(self) -> None:
        stop_process(self.proc, timeout=30)
        self.proc = None

    def clear(self) -> None:
        """Drop every graph but Virtuoso's own (``DROP ALL`` would take those too)."""
        resp = requests.post(
            self.sparql,
            data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
            headers={"Accept": "application/sparql-results+json"},
            timeout=60,
        )
        resp.raise_for_status()
        graphs = [b["g"]["value"] for b in resp.json()["results"]["bindings"]]
        mine = [g for g in graphs if g not in SYSTEM_GRAPHS]
        if mine:
            resp = requests.post(
                self.sparql,
                data={"update": " ;\n".join(f"CLEAR GRAPH <{g}>" for g in mine)},
                timeout=60,
            )
            resp.raise_for_status()
