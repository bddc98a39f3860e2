"""The static evidence pack: the web pages as files, and tables as CSV/XLSX/Parquet."""
