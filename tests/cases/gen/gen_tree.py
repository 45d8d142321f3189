# test_generators: pep_tests, Guido's binary tree, recursive in-order generator.
class Tree:
    def __init__(self, label, left=None, right=None):
        self.label = label
        self.left = left
        self.right = right
def tree(list):
    n = len(list)
    if n == 0:
        return []
    i = n // 2
    return Tree(list[i], tree(list[:i]), tree(list[i+1:]))
def inorder(t):
    if t:
        for x in inorder(t.left):
            yield x
        yield t.label
        for x in inorder(t.right):
            yield x
t = tree("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
print("".join(' ' + x for x in inorder(t)))
def inorder_from(t):
    if t:
        yield from inorder_from(t.left)
        yield t.label
        yield from inorder_from(t.right)
print("".join(' ' + x for x in inorder_from(t)))
