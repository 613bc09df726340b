// The fixture runs Patroni, etcd and PostgreSQL as local Linux processes (setpriv, signals, Unix file modes).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
