"""The backend's channels: what providers send (mail, SMS, calls, chat) read into plain data, with no server code."""
