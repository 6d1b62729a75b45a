/// One app's routes in the server's route table.
public struct RouteEntry: Codable, Hashable, Sendable {
    public var app: String
    public var routes: [String]

    public init(app: String, routes: [String]) {
        self.app = app
        self.routes = routes
    }
}

/// The answer to `routes`: `{"routes":[{"app":...,"routes":[...]}]}`. An object rather
/// than a bare array so fields can be added later without breaking clients.
public struct RouteList: Codable, Hashable, Sendable {
    public var routes: [RouteEntry]

    public init(routes: [RouteEntry]) {
        self.routes = routes
    }
}
