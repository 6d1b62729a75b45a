import Testing

@testable import TakoCore

@Suite("Variable merging")
struct VariableMergeTests {
    private let config = TakoConfig.parse(
        """
        [vars]
        A = "vars"
        B = "vars"
        C = "vars"
        D = "vars"
        [vars.production]
        B = "vars.production"
        C = "vars.production"
        D = "vars.production"
        [envs.production]
        route = "a.com"
        C = "envs.production"
        D = "envs.production"
        [envs.staging]
        route = "s.a.com"
        """
    ).config

    @Test func eachLayerWinsOverTheOneBefore() {
        let merged = config.mergedVariables(
            for: "production", secrets: ["D": "secret", "ENV": "spoofed"],
            tako: TakoConfig.takoVariables(appName: "web", environment: "production", build: "abc12345"))
        #expect(merged["A"] == "vars")
        #expect(merged["B"] == "vars.production")
        #expect(merged["C"] == "envs.production")
        #expect(merged["D"] == "secret")
        #expect(merged["ENV"] == "production")
        #expect(merged["TAKO_BUILD"] == "abc12345")
        #expect(merged["TAKO_APP_NAME"] == "web")
    }

    @Test func otherEnvironmentsSeeOnlyTheCommonVariables() {
        #expect(config.userVariables(for: "staging") == ["A": "vars", "B": "vars", "C": "vars", "D": "vars"])
    }
}
