package warehouse

// SendAsOneBlockForTest makes w send every insert as one unchecked block, as it did before blocks:
// the reference the tests hold the block path to.
func SendAsOneBlockForTest(w *BatchWriter) { w.ins.oneBlock = true }

// InsertBlockRows exposes the rows per block of an insert.
const InsertBlockRows = insertBlockRows
