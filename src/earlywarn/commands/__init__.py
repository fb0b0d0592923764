"""The subcommands of ``earlywarn``, grouped by what they work on."""
