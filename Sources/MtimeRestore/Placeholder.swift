// MtimeRestore
