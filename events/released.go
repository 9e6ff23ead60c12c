package events

// DocumentReleased is O2O's own: an operator released a document held for
// approval (Event.Document says which), so it is copied now. Like
// JobsDrifted it never comes from a webhook (Handled is false).
const DocumentReleased Type = "O2O_DOCUMENT_RELEASED"
