// Which AWS actions a Lambda handler's code can call, derived from the code itself: from the handler file,
// follow everything it can reach (module initialisation, then each function, method and class it refers to,
// with the TypeScript checker resolving names), and collect every `new XxxCommand(…)` of an `@aws-sdk/*`
// package on the way. A call through a port (an interface) reaches the method of every class the program
// instantiates whose instances fit the receiver's type. DynamoDB transactions add the actions of the item kinds
// (`Put`, `Update`, `Delete`, `ConditionCheck`) the reachable code builds.
//
// Functions held by an object literal of a project type (a port built as a literal) count once something calls
// them through that type; every export of the entry counts as called (the runtime calls the handler).
//
// The result over-approximates (a reachable branch may never run) and, as far as the types tell, never
// under-approximates: an action it does not list is one the code cannot call. (Values cast to an unrelated type
// would escape it; weft's code does not do that to ports.)
import { isAbsolute, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { type CodeAnalyzerOptions, createProgram } from './program';
import { actionsOf, operationOf, TRANSACT_ITEM_ACTIONS, TRANSACTION_COMMANDS } from './sdk-actions';

export interface CommandCall {
  /** `client-dynamodb`, `client-s3`, … */
  readonly sdkPackage: string;
  readonly command: string;
  /** Project-relative path and 1-based line of the `new`. */
  readonly at: string;
  /** The IAM actions it needs; null when they cannot be told (unknown package, PartiQL). */
  readonly actions: readonly string[] | null;
  /** How the entry reaches it: the functions (or module initialisations) from the entry down to the call. */
  readonly via: readonly string[];
}

export interface CodeActions {
  /** Every IAM action the reachable code can need, sorted. */
  readonly actions: readonly string[];
  /** Each SDK command the reachable code constructs, where. */
  readonly calls: readonly CommandCall[];
  /** Project files the entry loads, relative to the project root, sorted. */
  readonly files: readonly string[];
}

export type { CodeAnalyzerOptions } from './program';

export interface CodeAnalyzer {
  /** `entry`: a project-relative source file, e.g. `handlers/select-content.ts`. */
  actionsOf(entry: string): CodeActions;
}

const SDK_PATH = /[\\/]node_modules[\\/]@aws-sdk[\\/]([^\\/]+)[\\/]/;

function isFunctionLike(node: ts.Node | undefined): node is ts.FunctionLikeDeclaration {
  return (
    node !== undefined &&
    (ts.isArrowFunction(node) ||
      ts.isFunctionExpression(node) ||
      ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      ts.isSetAccessorDeclaration(node))
  );
}

const NAMED_DECLARATIONS = new Set([
  ts.SyntaxKind.PropertyAssignment,
  ts.SyntaxKind.MethodDeclaration,
  ts.SyntaxKind.PropertyDeclaration,
  ts.SyntaxKind.FunctionDeclaration,
  ts.SyntaxKind.FunctionExpression,
  ts.SyntaxKind.ClassDeclaration,
  ts.SyntaxKind.ClassExpression,
  ts.SyntaxKind.VariableDeclaration,
  ts.SyntaxKind.Parameter,
  ts.SyntaxKind.GetAccessor,
  ts.SyntaxKind.SetAccessor,
  ts.SyntaxKind.EnumMember,
]);

function isDeclarationName(identifier: ts.Identifier): boolean {
  const parent = identifier.parent as ts.Node & { name?: ts.Node };
  return NAMED_DECLARATIONS.has(parent.kind) && parent.name === identifier;
}

function isStatic(member: ts.ClassElement): boolean {
  return (ts.getCombinedModifierFlags(member as ts.Declaration) & ts.ModifierFlags.Static) !== 0;
}

export function createCodeAnalyzer(options: CodeAnalyzerOptions): CodeAnalyzer {
  const root = resolve(options.projectRoot);
  const program = createProgram(options);
  const checker = program.getTypeChecker();
  const cache = new Map<string, CodeActions>();

  return {
    actionsOf(entry: string): CodeActions {
      const path = isAbsolute(entry) ? entry : join(root, entry);
      const source = program.getSourceFile(path);
      if (!source) throw new Error(`${entry} is not part of the TypeScript program`);
      let result = cache.get(path);
      if (!result) {
        result = new Reachability(root, checker).from(source);
        cache.set(path, result);
      }
      return result;
    },
  };
}

class Reachability {
  private readonly walked = new Set<ts.Node>();
  private readonly modules = new Set<ts.SourceFile>();
  private readonly classes = new Set<ts.ClassLikeDeclaration>();
  /**
   * Members reached through a type rather than a declaration (a port's method, a possibly overridden one),
   * by name, with the receivers' types: null when unknown (`any`, a type parameter), then any class fits.
   */
  private readonly wanted = new Map<string, Map<ts.Type | null, ts.Node | null>>();
  /** Object literals of a project type (a port, an options interface) the code builds: their functions run
   * when something calls them through that type, like a class's methods. */
  private readonly literals = new Set<ts.ObjectLiteralExpression>();
  private readonly calls = new Map<string, CommandCall>();
  private readonly itemKinds = new Set<string>();
  /** What reached each walked function or module first, for `via`. */
  private readonly reachedFrom = new Map<ts.Node, ts.Node | null>();
  private current: ts.Node | null = null;

  constructor(
    private readonly root: string,
    private readonly checker: ts.TypeChecker,
  ) {}

  from(entry: ts.SourceFile): CodeActions {
    this.loadModule(entry);
    // The runtime calls the entry's exported handler: every export of the entry counts as called.
    const module = this.checker.getSymbolAtLocation(entry);
    for (const exported of module ? this.checker.getExportsOfModule(module) : []) {
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(exported) : exported;
      for (const declaration of symbol.declarations ?? []) this.reachDeclaration(declaration, entry);
    }
    const actions = new Set<string>();
    let transactions = false;
    for (const call of this.calls.values()) {
      for (const action of call.actions ?? []) actions.add(action);
      const operation = operationOf(call);
      if (operation && TRANSACTION_COMMANDS.has(operation)) transactions = true;
    }
    if (transactions) for (const kind of this.itemKinds) actions.add(TRANSACT_ITEM_ACTIONS[kind]!);
    const calls = [...this.calls.values()].sort((a, b) => a.at.localeCompare(b.at, 'en', { numeric: true }));
    return {
      actions: [...actions].sort(),
      calls,
      files: [...this.modules].map((file) => this.relativePath(file)).sort(),
    };
  }

  private relativePath(source: ts.SourceFile): string {
    return relative(this.root, source.fileName).split('\\').join('/');
  }

  private isProject(node: ts.Node): boolean {
    const source = node.getSourceFile();
    return !source.isDeclarationFile && !/[\\/]node_modules[\\/]/.test(source.fileName);
  }

  private symbolAt(node: ts.Node): ts.Symbol | undefined {
    const symbol = this.checker.getSymbolAtLocation(node);
    return symbol && symbol.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(symbol) : symbol;
  }

  // Module initialisation: what runs when a file is loaded (imports, top-level statements, static members).
  private loadModule(source: ts.SourceFile): void {
    if (this.modules.has(source) || !this.isProject(source)) return;
    this.modules.add(source);
    this.enter(source, () => this.loadStatements(source));
  }

  private loadStatements(source: ts.SourceFile): void {
    for (const statement of source.statements) {
      if (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) {
        this.loadImport(statement);
      } else if (ts.isFunctionDeclaration(statement)) {
        // A function runs when something calls it.
      } else if (ts.isClassDeclaration(statement)) {
        this.loadClassStatics(statement);
      } else if (ts.isVariableStatement(statement)) {
        for (const declaration of statement.declarationList.declarations) {
          if (declaration.initializer && !isFunctionLike(declaration.initializer)) {
            this.walk(declaration.initializer);
          }
        }
      } else if (ts.isExportAssignment(statement)) {
        if (!isFunctionLike(statement.expression)) this.walk(statement.expression);
      } else if (!ts.isInterfaceDeclaration(statement) && !ts.isTypeAliasDeclaration(statement)) {
        this.walk(statement);
      }
    }
  }

  private loadImport(statement: ts.ImportDeclaration | ts.ExportDeclaration): void {
    if (!statement.moduleSpecifier) return;
    if (ts.isImportDeclaration(statement) && statement.importClause?.isTypeOnly) return;
    if (ts.isExportDeclaration(statement) && statement.isTypeOnly) return;
    const target = this.checker.getSymbolAtLocation(statement.moduleSpecifier)?.valueDeclaration;
    if (target && ts.isSourceFile(target)) this.loadModule(target);
  }

  private loadClassStatics(node: ts.ClassLikeDeclaration): void {
    for (const clause of node.heritageClauses ?? []) {
      if (clause.token !== ts.SyntaxKind.ExtendsKeyword) continue;
      for (const type of clause.types) this.walk(type.expression);
    }
    for (const member of node.members) {
      if (ts.isClassStaticBlockDeclaration(member)) this.walk(member.body);
      else if (isStatic(member) && ts.isPropertyDeclaration(member) && member.initializer) {
        this.walk(member.initializer);
      }
    }
  }

  /** A class the code constructs (or hands on as a value): its constructor, fields, bases and wanted members. */
  private instantiate(node: ts.ClassLikeDeclaration): void {
    if (this.classes.has(node) || !this.isProject(node)) return;
    this.classes.add(node);
    this.loadModule(node.getSourceFile());
    for (const clause of node.heritageClauses ?? []) {
      if (clause.token !== ts.SyntaxKind.ExtendsKeyword) continue;
      for (const type of clause.types) {
        for (const base of this.symbolAt(type.expression)?.declarations ?? []) {
          if (ts.isClassLike(base) && this.isProject(base)) this.instantiate(base);
          // A package's base class (a stream, an Error) may call any of its methods.
          else for (const member of node.members) if (isFunctionLike(member)) this.walkOnce(member);
        }
      }
    }
    for (const member of node.members) {
      if (ts.isConstructorDeclaration(member)) this.walkOnce(member);
      else if (!isStatic(member) && ts.isPropertyDeclaration(member) && member.initializer) {
        this.walkOnce(member.initializer);
      }
    }
    for (const member of node.members) {
      const name = member.name && ts.isIdentifier(member.name) ? member.name.text : undefined;
      for (const [receiver, site] of (name && this.wanted.get(name)) || []) {
        this.reachMember(node, member, receiver, site);
      }
    }
  }

  private reachMember(
    node: ts.ClassLikeDeclaration,
    member: ts.ClassElement,
    receiver: ts.Type | null,
    site: ts.Node | null,
  ): void {
    if (receiver && !node.typeParameters?.length) {
      const symbol = node.name ? this.checker.getSymbolAtLocation(node.name) : undefined;
      const instance = symbol ? this.checker.getDeclaredTypeOfSymbol(symbol) : undefined;
      if (instance && !this.checker.isTypeAssignableTo(instance, receiver)) return;
    }
    this.reachDeclaration(member, site);
  }

  private want(name: string, receiver: ts.Type | null): void {
    const receivers = this.wanted.get(name) ?? new Map<ts.Type | null, ts.Node | null>();
    if (receivers.has(receiver)) return;
    receivers.set(receiver, this.current);
    this.wanted.set(name, receivers);
    const named = (element: ts.ClassElement | ts.ObjectLiteralElementLike) =>
      element.name !== undefined && ts.isIdentifier(element.name) && element.name.text === name;
    for (const node of [...this.classes]) {
      for (const member of node.members)
        if (named(member)) this.reachMember(node, member, receiver, this.current);
    }
    for (const literal of [...this.literals]) {
      for (const property of literal.properties) {
        if (named(property)) this.reachLiteralMember(literal, property, receiver, this.current);
      }
    }
  }

  /**
   * A function held by an object literal of a project type: called through that type, so reached by `want`,
   * not when the literal is built. A literal typed by a package (or not typed) may be called by anyone: its
   * functions are walked with the code that builds it.
   */
  private isDeferredMember(node: ts.Node): boolean {
    const literal = ts.isMethodDeclaration(node)
      ? node.parent
      : (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && ts.isPropertyAssignment(node.parent)
        ? node.parent.parent
        : undefined;
    return literal !== undefined && ts.isObjectLiteralExpression(literal) && this.isProjectTyped(literal);
  }

  private isProjectTyped(literal: ts.ObjectLiteralExpression): boolean {
    const contextual = this.checker.getContextualType(literal);
    if (!contextual) return false;
    const parts = contextual.isUnionOrIntersection() ? contextual.types : [contextual];
    return parts.every((type) => {
      const declarations = (type.aliasSymbol ?? type.getSymbol())?.declarations ?? [];
      return declarations.length > 0 && declarations.every((declaration) => this.isProject(declaration));
    });
  }

  private register(literal: ts.ObjectLiteralExpression): void {
    if (this.literals.has(literal)) return;
    this.literals.add(literal);
    for (const property of literal.properties) {
      const name = property.name && ts.isIdentifier(property.name) ? property.name.text : undefined;
      for (const [receiver, site] of (name && this.wanted.get(name)) || []) {
        this.reachLiteralMember(literal, property, receiver, site);
      }
    }
  }

  private reachLiteralMember(
    literal: ts.ObjectLiteralExpression,
    property: ts.ObjectLiteralElementLike,
    receiver: ts.Type | null,
    site: ts.Node | null,
  ): void {
    const fn = ts.isMethodDeclaration(property)
      ? property
      : ts.isPropertyAssignment(property) && isFunctionLike(property.initializer)
        ? property.initializer
        : undefined;
    if (!fn) return;
    if (receiver && !this.checker.isTypeAssignableTo(this.checker.getTypeAtLocation(literal), receiver))
      return;
    this.walkOnce(fn, site);
  }

  /** The receiver's type for matching, or null when it cannot narrow anything. */
  private receiverType(expression: ts.Expression): ts.Type | null {
    let type: ts.Type | undefined = this.checker.getTypeAtLocation(expression);
    // `this` and other type parameters: what they are bound to (the class, for `this`).
    if (type.flags & ts.TypeFlags.TypeParameter) type = this.checker.getBaseConstraintOfType(type);
    if (!type || type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.TypeParameter))
      return null;
    return this.checker.getNonNullableType(type);
  }

  /** `from`: where the reference stands, when not in the code being walked now. */
  private reachDeclaration(declaration: ts.Node, from: ts.Node | null = this.current): void {
    if (!this.isProject(declaration)) return;
    this.loadModule(declaration.getSourceFile());
    if (ts.isClassLike(declaration)) {
      this.instantiate(declaration);
    } else if (isFunctionLike(declaration)) {
      this.walkOnce(declaration, from);
    } else if (
      (ts.isVariableDeclaration(declaration) ||
        ts.isPropertyDeclaration(declaration) ||
        ts.isPropertyAssignment(declaration)) &&
      isFunctionLike(declaration.initializer)
    ) {
      // A function value runs when called; other values' initialisers ran where they stand (module load,
      // construction, or the enclosing code already walked).
      this.walkOnce(declaration.initializer, from);
    }
  }

  private walkOnce(node: ts.Node, from: ts.Node | null = this.current): void {
    if (this.walked.has(node)) return;
    this.walked.add(node);
    this.enter(node, () => this.walk(node), from);
  }

  private enter(node: ts.Node, work: () => void, from: ts.Node | null = this.current): void {
    if (!this.reachedFrom.has(node)) this.reachedFrom.set(node, from);
    const previous = this.current;
    this.current = node;
    try {
      work();
    } finally {
      this.current = previous;
    }
  }

  private label(node: ts.Node): string {
    if (ts.isSourceFile(node)) return `${this.relativePath(node)} (load)`;
    const named = (n: ts.Node): string | undefined => {
      const name = (n as { name?: ts.Node }).name;
      return name && (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) ? name.text : undefined;
    };
    let name = named(node) ?? (ts.isConstructorDeclaration(node) ? 'constructor' : undefined);
    if (
      !name &&
      node.parent &&
      (ts.isVariableDeclaration(node.parent) ||
        ts.isPropertyAssignment(node.parent) ||
        ts.isPropertyDeclaration(node.parent))
    ) {
      name = named(node.parent);
    }
    const owner = node.parent && ts.isClassLike(node.parent) ? named(node.parent) : undefined;
    const line = node.getSourceFile().getLineAndCharacterOfPosition(node.getStart()).line + 1;
    return `${owner ? `${owner}.` : ''}${name ?? '(function)'} ${this.relativePath(node.getSourceFile())}:${line}`;
  }

  private path(from: ts.Node | null): string[] {
    const chain: string[] = [];
    for (let node = from; node && chain.length < 50; node = this.reachedFrom.get(node) ?? null) {
      chain.unshift(this.label(node));
    }
    return chain;
  }

  private walk(node: ts.Node): void {
    const visit = (child: ts.Node): void => {
      if (ts.isTypeNode(child) && !ts.isExpressionWithTypeArguments(child)) return;
      if (child !== node && this.isDeferredMember(child)) return;
      if (ts.isInterfaceDeclaration(child) || ts.isTypeAliasDeclaration(child)) return;
      if (ts.isNewExpression(child)) this.onNew(child);
      if (ts.isPropertyAccessExpression(child)) this.onMember(child.name, child.expression);
      else if (ts.isElementAccessExpression(child) && ts.isStringLiteralLike(child.argumentExpression)) {
        this.want(child.argumentExpression.text, this.receiverType(child.expression));
      } else if (ts.isIdentifier(child)) this.onIdentifier(child);
      if (ts.isBindingElement(child) && ts.isObjectBindingPattern(child.parent)) this.onDestructured(child);
      if (ts.isPropertyAssignment(child)) this.onItemKind(child);
      if (ts.isObjectLiteralExpression(child) && this.isProjectTyped(child)) this.register(child);
      if (ts.isPropertyAccessExpression(child)) visit(child.expression);
      else ts.forEachChild(child, visit);
    };
    visit(node);
  }

  private onIdentifier(identifier: ts.Identifier): void {
    const parent = identifier.parent;
    // A declaration's own name refers to nothing to run (a shorthand `{ x }` refers to the value `x`).
    if (isDeclarationName(identifier)) return;
    const symbol =
      ts.isShorthandPropertyAssignment(parent) && parent.name === identifier
        ? this.checker.getShorthandAssignmentValueSymbol(parent)
        : this.symbolAt(identifier);
    for (const declaration of symbol?.declarations ?? []) this.reachDeclaration(declaration);
  }

  private onMember(name: ts.MemberName, receiver: ts.Expression): void {
    const symbol = this.symbolAt(name);
    const declarations = symbol?.declarations ?? [];
    if (declarations.length === 0) {
      this.want(name.text, this.receiverType(receiver));
      return;
    }
    for (const declaration of declarations) {
      const owner = declaration.parent;
      // A member of a class is that member, and any override in an instantiated subclass.
      if (owner && ts.isClassLike(owner)) {
        this.reachDeclaration(declaration);
        this.want(name.text, this.receiverType(receiver));
      } else if (owner && (ts.isInterfaceDeclaration(owner) || ts.isTypeLiteralNode(owner))) {
        this.want(name.text, this.receiverType(receiver));
      } else {
        this.reachDeclaration(declaration);
      }
    }
  }

  private onDestructured(element: ts.BindingElement): void {
    const key = element.propertyName ?? element.name;
    if (ts.isIdentifier(key)) this.want(key.text, null);
  }

  private onNew(expression: ts.NewExpression): void {
    const symbol = this.symbolAt(expression.expression);
    const declaration = symbol?.declarations?.[0];
    const sdkPackage = declaration ? SDK_PATH.exec(declaration.getSourceFile().fileName)?.[1] : undefined;
    if (!sdkPackage || !symbol?.name.endsWith('Command')) return;
    const source = expression.getSourceFile();
    const line = source.getLineAndCharacterOfPosition(expression.getStart()).line + 1;
    const call = { sdkPackage, command: symbol.name };
    const at = `${this.relativePath(source)}:${line}`;
    if (this.calls.has(at)) return;
    this.calls.set(at, { ...call, at, actions: actionsOf(call), via: this.path(this.current) });
  }

  /** `{ Put: … }` in a DynamoDB transaction's items (told by its contextual type, else by the file's imports). */
  private onItemKind(property: ts.PropertyAssignment): void {
    if (!ts.isIdentifier(property.name) || !(property.name.text in TRANSACT_ITEM_ACTIONS)) return;
    const literal = property.parent;
    const contextual = ts.isObjectLiteralExpression(literal)
      ? this.checker.getContextualType(literal)
      : undefined;
    const fromSdk = (type: ts.Type | undefined) =>
      (type?.aliasSymbol ?? type?.getSymbol())?.declarations?.some((d) =>
        /@aws-sdk[\\/](client|lib)-dynamodb/.test(d.getSourceFile().fileName),
      ) ?? false;
    const isItem = contextual
      ? fromSdk(contextual) || (contextual.isUnion() && contextual.types.some(fromSdk))
      : property
          .getSourceFile()
          .statements.some(
            (s) =>
              ts.isImportDeclaration(s) &&
              ts.isStringLiteral(s.moduleSpecifier) &&
              /^@aws-sdk\/(client|lib)-dynamodb$/.test(s.moduleSpecifier.text),
          );
    if (isItem) this.itemKinds.add(property.name.text);
  }
}
