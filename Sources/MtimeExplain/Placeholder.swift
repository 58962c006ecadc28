import MtimeCore
