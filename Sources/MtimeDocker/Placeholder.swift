// MtimeDocker
