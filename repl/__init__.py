"""The front end: REPL, lexer, inspect views, CLI."""
