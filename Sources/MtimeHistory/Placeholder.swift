// MtimeHistory
