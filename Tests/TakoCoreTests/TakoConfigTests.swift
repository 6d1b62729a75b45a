import Foundation
import Testing

@testable import TakoCore

@Suite("tako.toml")
struct TakoConfigTests {
    private func problems(_ text: String) -> [ConfigError] {
        TakoConfig.parse(text).problems
    }

    @Test func readsEverySection() throws {
        let (config, problems) = TakoConfig.parse(
            """
            [tako]
            name = "my-app"
            build = "bun run build"
            start = "bun run server.ts"
            dev = "bun run --watch server.ts"
            health_check = "/healthz"

            [vars]
            LOG_LEVEL = "info"
            WORKERS = 4
            DEBUG = false

            [vars.production]
            LOG_LEVEL = "warn"

            [envs.production]
            route = "api.example.com"
            LOG_FORMAT = "json"

            [envs.staging]
            routes = ["staging.example.com", "*.staging.example.com/api/*"]

            [servers]
            instances = 1
            port = 8080
            idle_timeout = 120

            [servers.la]
            env = "production"
            instances = 3

            [servers.sf]
            env = "staging"
            """)
        #expect(problems.isEmpty, "\(problems)")
        #expect(config.name == "my-app")
        #expect(config.build == "bun run build")
        #expect(config.start == "bun run server.ts")
        #expect(config.dev == "bun run --watch server.ts")
        #expect(config.healthCheck == "/healthz")
        #expect(config.variables == ["LOG_LEVEL": "info", "WORKERS": "4", "DEBUG": "false"])
        #expect(config.environmentVariables["production"] == ["LOG_LEVEL": "warn"])
        #expect(config.environments.map(\.name) == ["production", "staging"])
        #expect(config.environment(named: "production")?.routes.map(\.description) == ["api.example.com"])
        #expect(config.environment(named: "production")?.variables == ["LOG_FORMAT": "json"])
        #expect(config.environment(named: "staging")?.routes.count == 2)
        #expect(config.serverDefaults == .init(instances: 1, port: 8080, idleTimeout: 120))
        #expect(config.servers.map(\.name) == ["la", "sf"])
        #expect(config.servers[0].settings == .init(instances: 3, port: 8080, idleTimeout: 120))
        #expect(config.servers[1].settings == config.serverDefaults)
        #expect(config.servers(for: "staging").map(\.name) == ["sf"])
    }

    @Test func defaultsApplyWhenServersIsAbsent() {
        let (config, problems) = TakoConfig.parse("[envs.production]\nroute = \"a.com\"\n[servers.la]\nenv = \"production\"\n")
        #expect(problems.isEmpty)
        #expect(config.servers.first?.settings == .init(instances: 0, port: 80, idleTimeout: 300))
    }

    @Test func serverDefaultsApplyEvenWhenWrittenAfterAServerTable() {
        // TOML allows [servers] after [servers.la]; the defaults must still reach the mapping.
        let (config, problems) = TakoConfig.parse(
            "[envs.production]\nroute = \"a.com\"\n[servers.la]\nenv = \"production\"\n[servers]\ninstances = 2\n")
        #expect(problems.isEmpty, "\(problems)")
        #expect(config.servers.first?.settings.instances == 2)
    }

    /// Every validation rule of DESIGN.md §4: the code, the line and a part of the message.
    @Test(arguments: [
        ("[envs.production]\nroute = \"a.com\"\nroutes = [\"b.com\"]\n", ConfigError.Code.routeAndRoutes, 3,
         "[envs.production] sets both 'route' and 'routes'; keep one"),
        ("[envs.production]\nLOG = \"x\"\n", .missingRoute, 1, "[envs.production] has no route"),
        ("[envs.production]\nroutes = []\n", .missingRoute, 2, "has no route"),
        ("[envs.staging]\nroute = \"/api/*\"\n", .invalidRoute, 2, "host"),
        ("[envs.production]\nroute = \"api.*.example.com\"\n", .invalidRoute, 2, "wildcard"),
        ("[envs.production]\nroute = \"example.com/api*\"\n", .invalidRoute, 2, "wildcard"),
        ("[envs.production]\nroutes = [\n  \"a.com\",\n  \"b.*.com\",\n]\n", .invalidRoute, 4, "b.*.com"),
        ("[envs.production]\nroute = 3\n", .wrongType, 2, "must be a string"),
        ("[envs.production]\nroutes = \"a.com\"\n", .wrongType, 2, "list of strings"),
        ("[tako]\nname = \"My App\"\n", .invalidAppName, 2, "app name 'My App'"),
        ("[tako]\nname = \"app-\"\n", .invalidAppName, 2, "must not end with '-'"),
        ("[tako]\nname = \"1app\"\n", .invalidAppName, 2, "must start with a lower-case letter"),
        ("[tako]\nname = \"\(String(repeating: "a", count: 64))\"\n", .invalidAppName, 2, "longer than 63"),
        ("[tako]\nstrat = \"x\"\n", .unknownKey, 2, "unknown key 'strat' in [tako]"),
        ("[tako]\nhealth_check = \"healthz\"\n", .invalidValue, 2, "not a URL path"),
        ("[takoo]\nname = \"x\"\n", .unknownKey, 1, "unknown key 'takoo'"),
        ("[servers]\ninstanses = 1\n", .unknownKey, 2, "in [servers]"),
        ("[servers]\nport = 0\n", .invalidValue, 2, "between 1 and 65535"),
        ("[servers]\ninstances = -1\n", .invalidValue, 2, "between 0"),
        ("[servers]\nidle_timeout = \"5m\"\n", .wrongType, 2, "whole number"),
        ("[envs.production]\nroute = \"a.com\"\n[servers.la]\ninstances = 1\n", .missingServerEnvironment, 3, "has no 'env'"),
        ("[envs.production]\nroute = \"a.com\"\n[servers.la]\nenv = \"prod\"\n", .unknownEnvironment, 3, "'prod'"),
        ("[envs.production]\nroute = \"a.com\"\n[servers.la]\nenv = \"development\"\n", .developmentNotDeployable, 3,
         "cannot be deployed"),
        ("[envs.production]\nroute = \"a.com\"\n[servers.La]\nenv = \"production\"\n", .invalidServerName, 3, "server name 'La'"),
        ("[envs.production]\nroute = \"a.com\"\n[servers.la]\nenv = \"production\"\nenvv = 1\n", .unknownKey, 5, "did you mean 'env'"),
        ("[envs.Prod]\nroute = \"a.com\"\n", .invalidEnvironmentName, 1, "environment name 'Prod'"),
        ("[vars]\n1X = \"a\"\n", .invalidVariableName, 2, "not a valid environment variable name"),
        ("[vars]\nLIST = [1, 2]\n", .wrongType, 2, "string, number or boolean"),
        ("[envs.production\n", .syntax, 1, ""),
    ])
    func ruleIsReportedWithItsLine(text: String, code: ConfigError.Code, line: Int, message: String) {
        let found = problems(text).first { $0.code == code }
        #expect(found != nil, "expected \(code) in \(problems(text))")
        #expect(found?.line == line, "\(String(describing: found))")
        #expect(found?.message.hasPrefix("tako.toml:\(line): ") == true, "\(String(describing: found?.message))")
        #expect(
            message.isEmpty || found?.message.contains(message) == true || found?.hint?.contains(message) == true,
            "\(String(describing: found))")
        #expect(found?.severity == .error)
    }

    @Test func unknownKeysSuggestTheClosestKnownKey() {
        let found = problems("[tako]\nhealthcheck = \"/h\"\n").first
        #expect(found?.hint == "did you mean 'health_check'?")
        let far = problems("[tako]\nzzz = 1\n").first
        #expect(far?.hint?.contains("known keys") == true)
    }

    @Test func reservedVariablesAreAWarning() {
        let found = problems("[vars]\nPORT = 3000\n[envs.production]\nroute = \"a.com\"\n")
        #expect(found.count == 1)
        #expect(found.first?.code == .reservedVariable)
        #expect(found.first?.severity == .warning)
    }

    @Test func developmentNeedsNoRoute() {
        #expect(problems("[envs.development]\nDEBUG = true\n").isEmpty)
    }

    @Test func everyProblemIsCollected() {
        let found = problems(
            "[tako]\nname = \"Bad\"\nstrat = \"x\"\n[envs.production]\nroute = \"a.com\"\nroutes = [\"b.com\"]\n[envs.staging]\n")
        #expect(Set(found.map(\.code)) == [.invalidAppName, .unknownKey, .routeAndRoutes, .missingRoute])
    }

    @Test func errorsRenderWithFileLineAndHint() {
        let error = problems("[envs.production]\nroute = \"a.com\"\nroutes = [\"b.com\"]\n")[0]
        #expect(error.description == """
            tako.toml:3: [envs.production] sets both 'route' and 'routes'; keep one
            hint: use route = "host" for one route or routes = ["a", "b"] for several
            """)
    }
}
