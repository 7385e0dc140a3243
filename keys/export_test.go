package keys

// GenerateForTest exposes generate to the external tests: a key with a
// valid form and checksum for any prefix and id, stored nowhere. Apps get
// keys from [Manager.Create] and [Manager.Rotate] only.
var GenerateForTest = generate
