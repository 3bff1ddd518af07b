import BLASNetCLI

BLASNetCommand.run()
