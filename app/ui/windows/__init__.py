"""Top-level windows and dialogs: main window, login, settings, profile, log, player, replay,
live room, go live, record short video. Each assembles widgets and talks to controllers."""
