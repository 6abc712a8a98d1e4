"""Stage orchestration: land, bronze, silver and publish, each the I/O shell of its jobs."""
