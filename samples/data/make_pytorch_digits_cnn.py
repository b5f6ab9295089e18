# Writes pytorch-digits-cnn.onnx: a small CNN for the 8x8 digits, defined, initialized (seed 0) and
# exported by PyTorch itself — a model not made in C#, for the Digits sample's "imported" network,
# which imports it with OnnxImporter and fine-tunes it. Untrained: its BatchNorm statistics come
# from one training-mode pass over random pixels, so that they are its own and not zeros and ones.
# Run with Debian's PyTorch (python3-torch 1.13): /usr/bin/python3 make_pytorch_digits_cnn.py
import sys
import torch


class DigitsCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.BatchNorm2d(16), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
        self.classifier = torch.nn.Linear(32 * 2 * 2, 10)

    def forward(self, pixels):
        x = (pixels.reshape(-1, 1, 8, 8) - 8.0) / 8.0      # raw pixels 0..16, as the digits CSV holds them
        return self.classifier(torch.flatten(self.features(x), 1))


torch.manual_seed(0)
net = DigitsCnn()
net.train()
net(torch.rand(256, 64) * 16)
net.eval()
path = sys.argv[1] if len(sys.argv) > 1 else "pytorch-digits-cnn.onnx"
torch.onnx.export(net, torch.rand(2, 64) * 16, path, input_names=["pixels"], output_names=["logits"],
                  dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13,
                  training=torch.onnx.TrainingMode.PRESERVE)   # keep BatchNormalization a node (eval mode)
