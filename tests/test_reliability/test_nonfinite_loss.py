"""NaN/inf loss: stop with iteration + terms, or skip the step (opt-in)."""
import copy
import os.path as osp

import pytest
import torch

from mmplugin_transfuse.engine import NonFiniteSkipOptimWrapper
from tests.test_reliability.toy import RecordWeights, toy_dataset, toy_runner

SGD = dict(type='SGD', lr=0.05, momentum=0.9)


def test_hook_stops_with_iteration_and_terms(tmp_path):
    work = str(tmp_path)
    runner = toy_runner(
        work, 6, nan_at=[3], custom_hooks=[dict(type='NonFiniteLossHook')])
    with pytest.raises(FloatingPointError) as err:
        runner.train()
    msg = str(err.value)
    assert 'iteration 3' in msg
    assert 'loss_mse=nan' in msg and 'loss=nan' in msg
    assert 'loss_aux' not in msg  # finite terms are not blamed
    # the hook ran before the CheckpointHook of iteration 3
    assert not osp.exists(osp.join(work, 'iter_3.pth'))
    with open(osp.join(work, 'last_checkpoint')) as f:
        last = f.read().strip()
    assert last.endswith('iter_2.pth')
    ckpt = torch.load(last, weights_only=True)
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values())


def test_without_guard_nan_poisons_the_weights(tmp_path):
    """Control: without the hook mmengine trains on and saves NaN weights."""
    runner = toy_runner(str(tmp_path), 4, nan_at=[3])
    runner.train()
    assert not torch.isfinite(runner.model.linear.weight).all()


def test_skip_wrapper_skips_exactly_the_bad_step(tmp_path):
    record = RecordWeights()
    runner = toy_runner(
        str(tmp_path),
        5,
        nan_at=[3],
        optim_wrapper=dict(
            type='NonFiniteSkipOptimWrapper', optimizer=SGD,
            max_consecutive_skips=2),
        custom_hooks=[dict(type='NonFiniteLossHook'), record])
    init = copy.deepcopy(runner.model.linear)
    runner.train()  # no error: the NaN iteration was skipped
    wrapper = runner.optim_wrapper
    assert isinstance(wrapper, NonFiniteSkipOptimWrapper)
    assert wrapper.skipped_iters == [3]
    assert wrapper.consecutive_skips == 0
    w = record.weights
    assert len(w) == 5 and all(torch.isfinite(x).all() for x in w)
    assert torch.equal(w[2], w[1])  # iteration 3 changed nothing
    assert not torch.equal(w[3], w[2])  # iteration 4 trained again
    # weights and SGD momentum equal a plain run that leaves batch 3 out
    assert_trained_without(runner.model.linear, init, 5, skipped=3)


def assert_trained_without(linear, init, iters: int, skipped: int) -> None:
    """``linear`` equals ``init`` trained by plain SGD on the toy batches of
    iterations ``1..iters`` except the 1-based iteration ``skipped``."""
    ref, data = init, toy_dataset()
    opt = torch.optim.SGD(ref.parameters(), lr=0.05, momentum=0.9)
    for it in range(iters):
        if it == skipped - 1:
            continue
        batch = [data[(2 * it + k) % len(data)] for k in range(2)]
        x = torch.stack([b['inputs'] for b in batch])
        y = torch.stack([b['targets'] for b in batch])
        out = ref(x)
        loss = ((out.squeeze(-1) - y)**2).mean() + 0.1 * out.abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.testing.assert_close(linear.weight, ref.weight)
    torch.testing.assert_close(linear.bias, ref.bias)


def test_skip_wrapper_gives_up_after_max_consecutive(tmp_path):
    runner = toy_runner(
        str(tmp_path),
        8,
        nan_at=[2, 3, 4],
        optim_wrapper=dict(
            type='NonFiniteSkipOptimWrapper', optimizer=SGD,
            max_consecutive_skips=2),
        custom_hooks=[dict(type='NonFiniteLossHook')])
    with pytest.raises(FloatingPointError) as err:
        runner.train()
    msg = str(err.value)
    assert 'iteration 4' in msg and 'max_consecutive_skips=2' in msg
    assert runner.optim_wrapper.skipped_iters == [2, 3, 4]
    assert torch.isfinite(runner.model.linear.weight).all()


def test_skip_wrapper_drops_partial_accumulated_gradient(tmp_path):
    """With accumulative_counts=2 a NaN micro-batch zeroes the window's
    gradient and still counts, so the window boundaries do not shift."""
    runner = toy_runner(
        str(tmp_path),
        4,
        nan_at=[2],
        optim_wrapper=dict(
            type='NonFiniteSkipOptimWrapper', optimizer=SGD,
            accumulative_counts=2))
    record = RecordWeights()
    runner.register_hook(record)
    initial = torch.cat(
        [p.detach().flatten().clone() for p in runner.model.parameters()])
    runner.train()
    w = [initial] + record.weights
    # window 1 = iterations 1-2 (2 is NaN): no step at all
    assert torch.equal(w[1], w[0]) and torch.equal(w[2], w[0])
    # window 2 = iterations 3-4: one step, at iteration 4
    assert torch.equal(w[3], w[2]) and not torch.equal(w[4], w[3])


# Finite loss, non-finite gradients (sqrt at 0 in the backward pass of the
# toy's bias at iteration 3). Clipping is on, as in the project's configs:
# clip_grad_norm_ with a NaN norm turns *every* gradient into NaN, so the
# parameters must be named before it.
CLIPPED_SGD = dict(optimizer=SGD, clip_grad=dict(max_norm=1e6))


def test_nan_gradients_without_guard_are_checkpointed(tmp_path):
    """Control: mmengine takes the step and saves NaN weights at iter 3,
    the loss turns NaN only at iteration 4."""
    work = str(tmp_path)
    runner = toy_runner(work, 3, nan_grad_at=[3], optim_wrapper=CLIPPED_SGD)
    runner.train()
    ckpt = torch.load(osp.join(work, 'iter_3.pth'), weights_only=True)
    assert not torch.isfinite(ckpt['state_dict']['linear.weight']).any()


def test_nan_gradients_with_finite_loss_stop_before_the_step(tmp_path):
    work = str(tmp_path)
    runner = toy_runner(
        work, 6, nan_grad_at=[3], optim_wrapper=CLIPPED_SGD,
        custom_hooks=[dict(type='NonFiniteLossHook')])
    with pytest.raises(FloatingPointError) as err:
        runner.train()
    msg = str(err.value)
    assert 'Non-finite gradients at iteration 3 with a finite loss' in msg
    assert 'linear.bias' in msg and 'linear.weight' not in msg
    assert not osp.exists(osp.join(work, 'iter_3.pth'))
    with open(osp.join(work, 'last_checkpoint')) as f:
        last = f.read().strip()
    assert last.endswith('iter_2.pth')
    good = torch.load(last, weights_only=True)['state_dict']
    assert all(torch.isfinite(v).all() for v in good.values())
    # the step of iteration 3 was withheld: memory still holds iteration 2
    torch.testing.assert_close(runner.model.state_dict(), good)


def test_skip_wrapper_skips_a_nan_gradient_step(tmp_path):
    record = RecordWeights()
    runner = toy_runner(
        str(tmp_path), 5, nan_grad_at=[3],
        optim_wrapper=dict(CLIPPED_SGD, type='NonFiniteSkipOptimWrapper'),
        custom_hooks=[dict(type='NonFiniteLossHook'), record])
    init = copy.deepcopy(runner.model.linear)
    runner.train()
    wrapper = runner.optim_wrapper
    assert wrapper.skipped_iters == [3]
    assert wrapper.last_nonfinite_grads == ['linear.bias']
    assert wrapper.consecutive_skips == 0
    assert torch.equal(record.weights[2], record.weights[1])
    assert_trained_without(runner.model.linear, init, 5, skipped=3)


def test_skip_wrapper_counts_gradient_skips_in_a_row(tmp_path):
    runner = toy_runner(
        str(tmp_path), 8, nan_grad_at=[2, 3, 4],
        optim_wrapper=dict(CLIPPED_SGD, type='NonFiniteSkipOptimWrapper',
                           max_consecutive_skips=2),
        custom_hooks=[dict(type='NonFiniteLossHook')])
    with pytest.raises(FloatingPointError) as err:
        runner.train()
    msg = str(err.value)
    assert 'non-finite gradients of linear.bias at iteration 4' in msg
    assert 'max_consecutive_skips=2' in msg
    assert torch.isfinite(runner.model.linear.weight).all()


def test_gradient_check_agrees_over_ranks(monkeypatch):
    """Under DDP a rank whose own gradients are finite still reports (and
    so stops/skips with) the parameters another rank found."""
    from mmplugin_transfuse.engine.optimizers import nonfinite_grads
    model = torch.nn.Linear(2, 1)
    model.weight.grad = torch.ones_like(model.weight)
    model.bias.grad = torch.ones_like(model.bias)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    names = nonfinite_grads.param_names(model)
    # a norm that overflows float32 is not a non-finite gradient
    model.weight.grad.fill_(1e30)
    assert not torch.isfinite(torch.nn.utils.get_total_norm(
        [model.weight.grad]))
    assert nonfinite_grads.nonfinite_grad_params(optimizer, names) == []
    other_rank = {'finite': 1.0, 'bad': []}

    def all_reduce(flag, op):
        assert op == 'min'
        flag.copy_(torch.minimum(flag, torch.tensor([other_rank['finite']])))

    monkeypatch.setattr(nonfinite_grads, 'is_distributed', lambda: True)
    monkeypatch.setattr(nonfinite_grads, 'get_world_size', lambda: 2)
    monkeypatch.setattr(nonfinite_grads, 'all_reduce', all_reduce)
    monkeypatch.setattr(nonfinite_grads, 'all_gather_object',
                        lambda bad: [bad, other_rank['bad']])
    assert nonfinite_grads.nonfinite_grad_params(optimizer, names) == []
    other_rank.update(finite=0.0, bad=['bias'])
    assert nonfinite_grads.nonfinite_grad_params(optimizer, names) == ['bias']
    model.weight.grad[0, 1] = float('inf')  # both ranks: merged, in order
    assert nonfinite_grads.nonfinite_grad_params(
        optimizer, names) == ['weight', 'bias']
