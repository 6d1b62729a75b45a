import Foundation
import TakoTestSupport
import Testing

@Suite("tako validate")
struct ValidateCommandTests {
    @Test func showsAppRoutesServersAndMergedVariables() throws {
        let sandbox = try Sandbox()
        try sandbox.write(
            """
            [tako]
            name = "shop"

            [vars]
            LOG_LEVEL = "info"
            REGION = "eu"

            [vars.production]
            LOG_LEVEL = "warn"

            [envs.production]
            routes = ["shop.example.com", "*.shop.example.com/api/*"]
            LOG_FORMAT = "json"

            [servers]
            instances = 2

            [servers.la]
            env = "production"
            idle_timeout = 60
            """, to: "tako.toml")
        try sandbox.write(#"{"production":{"DATABASE_URL":"AAAA"}}"#, to: ".tako/secrets")
        let result = try sandbox.tako.run(["validate"])
        #expect(result.status == 0, "\(result.output)")
        for expected in [
            "app: shop (from tako.toml)", "shop.example.com, *.shop.example.com/api/*", "la (instances 2, port 80, idle 60s)",
            "LOG_LEVEL=warn", "REGION=eu", "LOG_FORMAT=json", "ENV=production", "DATABASE_URL", "shop.tako.local",
        ] {
            #expect(result.stdout.contains(expected), "missing \(expected):\n\(result.output)")
        }
        #expect(result.stderr.contains("'la'") && result.stderr.contains("inventory"), "\(result.output)")

        let json = try sandbox.tako.run(["validate", "--json", "--env", "production"])
        #expect(json.status == 0, "\(json.output)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["app"] as? String == "shop")
        let environments = object?["environments"] as? [[String: Any]]
        #expect(environments?.count == 1)
        #expect((environments?.first?["variables"] as? [String: String])?["LOG_LEVEL"] == "warn")
        #expect(environments?.first?["secrets"] as? [String] == ["DATABASE_URL"])
    }

    /// Each bad input: the file, the line, and a recognisable part of the message.
    @Test(arguments: [
        ("[envs.production\nroute = \"a.com\"\n", "tako.toml:1:", "expected"),
        ("[envs.production]\nroute = \"a.com\"\nroutes = [\"b.com\"]\n", "tako.toml:3:", "sets both 'route' and 'routes'; keep one"),
        ("[envs.production]\nroute = \"api.*.example.com\"\n", "tako.toml:2:", "wildcard"),
        ("[envs.production]\nroute = \"/api/*\"\n", "tako.toml:2:", "host"),
        ("[tako]\nname = \"My_App\"\n[envs.production]\nroute = \"a.com\"\n", "tako.toml:2:", "app name 'My_App'"),
        ("[tako]\nname = \"web\"\n[envs.production]\nroute = \"a.com\"\n[envs.development]\nroute = \"other.tako.local\"\n",
         "tako.toml:6:", "outside web.tako.local"),
        ("[tako]\nnmae = \"web\"\n[envs.production]\nroute = \"a.com\"\n", "tako.toml:2:", "did you mean 'name'?"),
        ("[envs.production]\n", "tako.toml:1:", "has no route"),
        ("[envs.production]\nroute = \"a.com\"\n[servers]\ninstance = 2\n", "tako.toml:4:", "did you mean 'instances'?"),
        ("[envs.production]\nroute = \"a.com\"\n[servers.la]\ninstances = 2\n", "tako.toml:3:", "has no 'env'"),
    ])
    func badInputIsALocatedError(toml: String, location: String, message: String) throws {
        let sandbox = try Sandbox()
        try sandbox.write(toml, to: "tako.toml")
        let result = try sandbox.tako.run(["validate"])
        #expect(result.status != 0, "\(result.output)")
        #expect(result.stderr.contains(location), "\(result.output)")
        #expect(result.stderr.contains(message), "\(result.output)")
        #expect(result.stdout.isEmpty, "\(result.output)")
    }

    @Test func listsEveryProblem() throws {
        let sandbox = try Sandbox()
        try sandbox.write(
            """
            [tako]
            nmae = "x"
            [envs.production]
            route = "a.com"
            routes = ["b.com"]
            [envs.staging]
            route = "*example.com"
            """, to: "tako.toml")
        let result = try sandbox.tako.run(["validate"])
        #expect(result.status != 0)
        for line in ["tako.toml:2:", "tako.toml:5:", "tako.toml:7:"] {
            #expect(result.stderr.contains(line), "\(result.output)")
        }
        #expect(result.stderr.contains("3 problems"), "\(result.output)")
    }

    @Test func missingTakoTomlSuggestsInit() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.tako.run(["validate"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("no tako.toml"), "\(result.output)")
        #expect(result.stderr.contains("tako init"), "\(result.output)")
    }

    @Test func unknownEnvironmentIsAnError() throws {
        let sandbox = try Sandbox()
        try sandbox.write("[envs.production]\nroute = \"a.com\"\n", to: "tako.toml")
        let result = try sandbox.tako.run(["validate", "--env", "staging"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("[envs.staging]"), "\(result.output)")
    }
}
