"""artisto's Telegram side: configuration, the command line, the bot and its playground."""
