/// The version of every Tako program built from this package.
public enum TakoVersion {
    public static let current = "0.1.0"
}
