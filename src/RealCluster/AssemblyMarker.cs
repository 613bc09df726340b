namespace PatroniModel.RealCluster;
internal static class AssemblyMarker;
