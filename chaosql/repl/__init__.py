"""The interactive shell (prompt-toolkit): completion in ``completion``, meta-commands in ``commands``."""
