namespace PatroniModel.Model;
internal static class AssemblyMarker;
