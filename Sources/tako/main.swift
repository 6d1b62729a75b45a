import TakoCLI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(await TakoCommand.run(arguments: Array(CommandLine.arguments.dropFirst())))
