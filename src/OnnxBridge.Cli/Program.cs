using OnnxBridge.Cli;

return OnnxBridgeCli.Invoke(args, Console.Out, Console.Error);
