namespace PatroniModel.Exploration;
internal static class AssemblyMarker;
