"""Controllers: the UI-thread faces of the engines (account, IM, push, co-hosting, RoomService room,
recording), the list sources and image loading. No widgets here; windows connect to their signals.
Engine callbacks reach the GUI thread through :class:`app.ui.controllers.bridge.EngineBridge`."""
