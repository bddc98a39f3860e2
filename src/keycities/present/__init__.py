"""What every front end renders: charts, table downloads and payloads.

The CLI, the web app and the static evidence pack all draw on these.
"""
