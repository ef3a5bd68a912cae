"""A warm render process behind the command line: the daemon.

``notegen render`` and ``notegen validate`` cost a second or more cold, most
of it importing WeasyPrint, pydantic and notegen and setting them up; the
work itself takes a tenth of that in a process that has done it before. So
the command line hands its work to a per-user server that stays warm:

- :mod:`.client` is what the command line runs: it imports neither
  WeasyPrint nor pydantic, finds the server's socket (starting the server if
  none answers), sends the command's arguments, current folder and
  environment, and relays what comes back: standard output, standard error
  and the exit code, exactly as the command would have made them. When the
  server cannot be started or does not answer, the command runs in the
  process as before (logged, not an error).
- :mod:`.server` is the server: one request at a time on a Unix socket, each
  run by the same command-line code in its own folder and environment; it
  ends after ``daemon_idle_minutes`` without work, and when notegen itself
  changed (another version, or edited files) so that a new one starts.
- :mod:`.paths` keeps it per user: the socket lies in
  ``$XDG_RUNTIME_DIR/notegen`` (else ``/tmp/notegen-<uid>``), a folder only
  its user may enter (0700, refused if another user owns it or others may
  write it), the socket itself 0600, and the server answers only peers of
  its own user.
- :mod:`.protocol` frames requests and answers: a length, then JSON (never
  pickle); a :class:`~notegen.errors.NotegenError` crosses as its kind,
  sentence and located problems.

Opting out: ``--no-daemon``, ``daemon = false`` in ``notegen.toml``, or
``NOTEGEN_NO_DAEMON=1``. ``notegen daemon start|stop|status`` manages it by
hand.
"""

#: The commands the daemon runs: a client hands over only these.
COMMANDS = frozenset({"render", "validate", "batch"})
#: The commands the daemon runs in a process of its own, forked warm, when the
#: client passes its standard streams: they may run for minutes (the daemon
#: goes on answering others meanwhile) and write to the client's terminal as
#: they go.
APART = frozenset({"batch"})
