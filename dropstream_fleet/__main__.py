"""``python -m dropstream_fleet``: the ``dropstream-fleet`` command."""

from dropstream_fleet.cli import main

if __name__ == "__main__":
    main()
