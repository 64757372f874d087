#!/usr/bin/python3
"""Writes PyTorch checkpoints for tests/interop/test_pytorch_import.cpp.

The networks below are laid out exactly as the paper's / Network Slimming's
models/ (vgg.py: `feature` Sequential + `classifier`; preresnet.py: layerK.i
bottlenecks with bn1/select/conv1/bn2/conv2/bn3/conv3/downsample.0, final
bn/select/fc; densenet.py: denseK.i BasicBlocks, transK transitions, final
bn/select/fc; channel_selection.py: a float `indexes` parameter whose nonzero
entries are the kept channels), so their state_dict keys, shapes and forward
passes are what the authors' scripts save. Written for this test; small
depths and widths so the C++ test runs in seconds.

Each case is seeded, has random BN statistics and scales, and is saved with
torch.save in one of the layouts people have: a bare state_dict, {'cfg',
'state_dict'} (the prune scripts) or {'epoch', 'state_dict', 'best_prec1',
'optimizer'} (the training script). The model is then run in eval mode on
fixed inputs; inputs and logits go next to it as raw little-endian float32,
described in manifest.json. Broken files for the error tests are written too.

Usage: /usr/bin/python3 make_pytorch_ckpts.py OUT_DIR
"""
import json
import math
import os
import sys
import zipfile

import torch
import torch.nn as nn
import torch.nn.functional as F


class channel_selection(nn.Module):
    def __init__(self, num_channels):
        super().__init__()
        self.indexes = nn.Parameter(torch.ones(num_channels))

    def forward(self, x):
        keep = torch.nonzero(self.indexes.data).flatten()
        return x[:, keep, :, :]


class vgg(nn.Module):
    def __init__(self, cfg, num_classes=10):
        super().__init__()
        layers, c_in = [], 3
        for v in cfg:
            if v == 'M':
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                layers += [nn.Conv2d(c_in, v, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(v),
                           nn.ReLU(inplace=True)]
                c_in = v
        self.feature = nn.Sequential(*layers)
        self.classifier = nn.Linear(cfg[-1], num_classes)

    def forward(self, x):
        x = self.feature(x)
        x = nn.AvgPool2d(2)(x)
        return self.classifier(x.view(x.size(0), -1))


class Bottleneck(nn.Module):
    def __init__(self, inplanes, planes, cfg, stride=1, downsample=None):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.select = channel_selection(inplanes)
        self.conv1 = nn.Conv2d(cfg[0], cfg[1], kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cfg[1])
        self.conv2 = nn.Conv2d(cfg[1], cfg[2], kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(cfg[2])
        self.conv3 = nn.Conv2d(cfg[2], planes * 4, kernel_size=1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.conv1(self.relu(self.select(self.bn1(x))))
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        return out + (self.downsample(x) if self.downsample is not None else x)


class resnet(nn.Module):
    def __init__(self, depth, cfg=None, num_classes=10):
        super().__init__()
        n = (depth - 2) // 9
        if cfg is None:
            cfg = [[16, 16, 16], [64, 16, 16] * (n - 1), [64, 32, 32], [128, 32, 32] * (n - 1), [128, 64, 64],
                   [256, 64, 64] * (n - 1), [256]]
            cfg = [c for part in cfg for c in part]
        self.inplanes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1, bias=False)
        self.layer1 = self._make_layer(16, n, cfg[0:3 * n])
        self.layer2 = self._make_layer(32, n, cfg[3 * n:6 * n], stride=2)
        self.layer3 = self._make_layer(64, n, cfg[6 * n:9 * n], stride=2)
        self.bn = nn.BatchNorm2d(256)
        self.select = channel_selection(256)
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AvgPool2d(8)
        self.fc = nn.Linear(cfg[-1], num_classes)

    def _make_layer(self, planes, blocks, cfg, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * 4, kernel_size=1, stride=stride, bias=False))
        layers = [Bottleneck(self.inplanes, planes, cfg[0:3], stride, downsample)]
        self.inplanes = planes * 4
        for i in range(1, blocks):
            layers.append(Bottleneck(self.inplanes, planes, cfg[3 * i:3 * (i + 1)]))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.conv1(x))))
        x = self.relu(self.select(self.bn(x)))
        x = self.avgpool(x)
        return self.fc(x.view(x.size(0), -1))


class BasicBlock(nn.Module):
    def __init__(self, inplanes, cfg, growthRate=12):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.select = channel_selection(inplanes)
        self.conv1 = nn.Conv2d(cfg, growthRate, kernel_size=3, padding=1, bias=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return torch.cat((x, self.conv1(self.relu(self.select(self.bn1(x))))), 1)


class Transition(nn.Module):
    def __init__(self, inplanes, outplanes, cfg):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.select = channel_selection(inplanes)
        self.conv1 = nn.Conv2d(cfg, outplanes, kernel_size=1, bias=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return F.avg_pool2d(self.conv1(self.relu(self.select(self.bn1(x)))), 2)


class densenet(nn.Module):
    def __init__(self, depth, growthRate=12, cfg=None, num_classes=10):
        super().__init__()
        n = (depth - 4) // 3
        if cfg is None:
            cfg, start = [], growthRate * 2
            for _ in range(3):
                cfg.append([start + growthRate * i for i in range(n + 1)])
                start += growthRate * n
            cfg = [c for part in cfg for c in part]
        assert len(cfg) == 3 * n + 3
        self.growthRate = growthRate
        self.inplanes = growthRate * 2
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=3, padding=1, bias=False)
        self.dense1 = self._make_denseblock(n, cfg[0:n])
        self.trans1 = self._make_transition(cfg[n])
        self.dense2 = self._make_denseblock(n, cfg[n + 1:2 * n + 1])
        self.trans2 = self._make_transition(cfg[2 * n + 1])
        self.dense3 = self._make_denseblock(n, cfg[2 * n + 2:3 * n + 2])
        self.bn = nn.BatchNorm2d(self.inplanes)
        self.select = channel_selection(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AvgPool2d(8)
        self.fc = nn.Linear(cfg[-1], num_classes)

    def _make_denseblock(self, blocks, cfg):
        layers = []
        for i in range(blocks):
            layers.append(BasicBlock(self.inplanes, cfg=cfg[i], growthRate=self.growthRate))
            self.inplanes += self.growthRate
        return nn.Sequential(*layers)

    def _make_transition(self, cfg):
        inplanes = self.inplanes
        return Transition(inplanes, inplanes, cfg)

    def forward(self, x):
        x = self.trans1(self.dense1(self.conv1(x)))
        x = self.trans2(self.dense2(x))
        x = self.dense3(x)
        x = self.relu(self.select(self.bn(x)))
        x = self.avgpool(x)
        return self.fc(x.view(x.size(0), -1))


def randomize(model, gen):
    """Random weights, BN scales/shifts/statistics; pruned selections keep
    exactly `keep[i]` random channels (zeros elsewhere), as the prune scripts
    leave them."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / fan))
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=gen) * 1.5 - 0.25)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(1000)
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * 0.1)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
    return model


def set_selections(model, kept, gen):
    """kept: one count per channel_selection in module order."""
    sels = [m for m in model.modules() if isinstance(m, channel_selection)]
    assert len(sels) == len(kept), (len(sels), len(kept))
    with torch.no_grad():
        for s, k in zip(sels, kept):
            c = s.indexes.numel()
            mask = torch.zeros(c)
            mask[torch.randperm(c, generator=gen)[:k]] = 1.0
            s.indexes.copy_(mask)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    inputs = torch.randn(4, 3, 32, 32, generator=gen)
    inputs.numpy().astype('<f4').tofile(os.path.join(out, 'inputs.bin'))
    manifest = {'torch': torch.__version__, 'inputs': [4, 3, 32, 32], 'cases': []}

    def case(name, model, layout, arch, cfg=None):
        model.eval()
        with torch.no_grad():
            logits = model(inputs)
        sd = model.state_dict()
        if layout == 'bare':
            obj = sd
        elif layout == 'cfg':
            obj = {'cfg': cfg, 'state_dict': sd}
        else:  # the training script's checkpoint, optimizer state included
            opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
            for p in model.parameters():
                if p.requires_grad:
                    p.grad = torch.zeros_like(p)
            opt.step()  # zero gradients: momentum buffers exist, weights unchanged up to weight decay
            with torch.no_grad():
                logits = model(inputs)
            obj = {'epoch': 160, 'state_dict': model.state_dict(), 'best_prec1': torch.tensor(93.5),
                   'optimizer': opt.state_dict()}
        torch.save(obj, os.path.join(out, name + '.pth'))
        logits.numpy().astype('<f4').tofile(os.path.join(out, name + '.logits.bin'))
        manifest['cases'].append({'name': name, 'arch': arch, 'layout': layout, 'classes': logits.shape[1]})
        return model

    # VGG-11 at 1/8 width, default cfg, bare state_dict.
    vgg_cfg = [8, 'M', 16, 'M', 32, 32, 'M', 64, 64, 'M', 64, 64]
    case('vgg11_bare', randomize(vgg(vgg_cfg), gen), 'bare', 'vgg')
    # VGG-11 pruned by the prune script: {'cfg', 'state_dict'}, 'M' entries included.
    vgg_pruned = [6, 'M', 11, 'M', 20, 32, 'M', 40, 17, 'M', 9, 50]
    case('vgg11_pruned', randomize(vgg(vgg_pruned), gen), 'cfg', 'vgg', vgg_pruned)
    # PreResNet-20 as the training script saves it (epoch, state_dict, best_prec1, optimizer).
    case('preresnet20_train', randomize(resnet(20), gen), 'train', 'preresnet')
    # PreResNet-20 pruned: selections with zeros, narrower convs, {'cfg', 'state_dict'}.
    res_cfg = [12, 9, 14, 50, 3, 16, 41, 30, 7, 100, 20, 31, 47, 60, 2, 200, 5, 64, 180]
    m = randomize(resnet(20, cfg=res_cfg), gen)
    set_selections(m, res_cfg[0::3], gen)
    case('preresnet20_pruned', m, 'cfg', 'preresnet', res_cfg)
    # DenseNet-10 (n = 2), growth 12, bare state_dict.
    case('densenet10_bare', randomize(densenet(10), gen), 'bare', 'densenet')
    # DenseNet-10 pruned (channel selections with zeros), 100 classes, {'cfg', 'state_dict'}.
    dn_cfg = [24, 20, 30, 40, 33, 52, 60, 41, 70]
    m = randomize(densenet(10, cfg=dn_cfg, num_classes=100), gen)
    set_selections(m, dn_cfg, gen)
    case('densenet10_pruned', m, 'cfg', 'densenet', dn_cfg)

    # --- broken files for the error tests ------------------------------------
    sd = randomize(resnet(20), gen).state_dict()
    missing = {k: v for k, v in sd.items() if k != 'layer2.1.bn2.running_var'}
    torch.save(missing, os.path.join(out, 'err_missing.pth'))
    bad = dict(sd)
    bad['layer1.0.bn2.running_mean'] = torch.zeros(17)
    torch.save(bad, os.path.join(out, 'err_shape.pth'))
    extra = dict(sd)
    extra['layer1.0.attention.weight'] = torch.zeros(3)
    extra['head.bias'] = torch.zeros(3)
    torch.save(extra, os.path.join(out, 'err_extra.pth'))
    torch.save(sd, os.path.join(out, 'err_legacy.pth'), _use_new_zipfile_serialization=False)
    m = randomize(vgg(vgg_pruned), gen)
    bad_cfg = list(vgg_pruned)
    bad_cfg[2] = 12  # the tensors say 11
    torch.save({'cfg': bad_cfg, 'state_dict': m.state_dict()}, os.path.join(out, 'err_cfg.pth'))
    torch.save({'epoch': 3, 'best_prec1': 0.0}, os.path.join(out, 'err_no_state_dict.pth'))
    # Zip archives laid out as torch.save's whose data.pkl is hostile: a REDUCE
    # on an empty stack, and an opcode no pickle protocol has.
    for name, pkl in (('err_pickle_underflow', b'\x80\x02R.'), ('err_pickle_opcode', b'\x80\x02}\xff.')):
        with zipfile.ZipFile(os.path.join(out, name + '.pth'), 'w') as z:
            z.writestr(name + '/data.pkl', pkl)
            z.writestr(name + '/version', '3\n')

    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)


if __name__ == '__main__':
    main()
