"""One module per ``arena X`` command: plain arguments in, result records out; nothing printed."""
