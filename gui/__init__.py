"""TeXSnap desktop app: Qt adapters around ``core``. No model logic lives here."""
