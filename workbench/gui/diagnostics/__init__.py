"""The app's diagnostics: the pre-flight check and LR finder dialogs, the health view, the
optimizer race, the divergence bar. Each is a plain widget the window places."""
